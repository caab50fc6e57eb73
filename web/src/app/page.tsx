"use client";
import { useRouter } from "next/navigation";
import { useEffect } from "react";
import { useAuth } from "@/stores/auth";

export default function Home() {
  const router = useRouter();
  useEffect(() => {
    router.replace(useAuth.getState().validToken() ? "/projects/" : "/login/");
  }, [router]);
  return <p className="main muted">Loading…</p>;
}
