import Link from "next/link";

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
