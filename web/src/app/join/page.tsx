import type { Metadata } from "next";
import { JoinPage } from "@/components/JoinPage";

export const metadata: Metadata = { title: "Join a studio" };

export default function Page() {
  return <JoinPage />;
}
