import type { Metadata } from "next";
import { ReviewPage } from "@/components/ReviewPage";

// Static export writes one shell for every token (out/review/_/index.html); the API (or Nginx) serves it for
// any /review/<token>/ and the page reads the real token from the address bar.
export function generateStaticParams() {
  return [{ token: "_" }];
}

export const metadata: Metadata = { title: "Review" };

export default function Review() {
  return <ReviewPage />;
}
