import type { Metadata } from "next";
import type { ReactNode } from "react";
import { Providers } from "./providers";
import "./globals.css";
import "@/styles/a11y.css";

// Each route names itself ("Log in · AI Asset Manager"); a page without its own title gets the product name.
export const metadata: Metadata = { title: { default: "AI Asset Manager", template: "%s · AI Asset Manager" } };

export default function RootLayout({ children }: { children: ReactNode }) {
  return (
    <html lang="en">
      <body>
        <Providers>{children}</Providers>
      </body>
    </html>
  );
}
