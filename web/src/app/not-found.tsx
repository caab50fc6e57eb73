import type { Metadata } from "next";
import Link from "next/link";

export const metadata: Metadata = { title: "Page not found" };

export default function NotFound() {
  return (
    <main className="center-card panel">
      <h1>Page not found</h1>
      <p>
        <Link href="/projects/">Back to your projects</Link>
      </p>
    </main>
  );
}
