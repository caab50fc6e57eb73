"use client";
import { useRouter } from "next/navigation";
import { useEffect } from "react";

export default function Home() {
  const router = useRouter();
  useEffect(() => {
    // The projects page asks the API whether the session cookie is live, and sends a stranger to login.
    router.replace("/projects/");
  }, [router]);
  return <p className="main muted">Loading…</p>;
}
