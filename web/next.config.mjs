/** Static export (SPA mode): `next build` writes plain files to out/, served by the API or by Nginx. */
const nextConfig = {
  output: "export",
  trailingSlash: true,
  reactStrictMode: true,
  poweredByHeader: false,
  images: { unoptimized: true },
};

export default nextConfig;
