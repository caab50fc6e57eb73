// What a studio invite offers, as one sentence (without its full stop): "Olga invites you to join Acme as editor".
import type { JoinInfo } from "@/api/studioHooks";
import { roleLabel } from "@/lib/roles";

export function InviteOffer({ info }: { info: Pick<JoinInfo, "invited_by" | "studio_name" | "role"> }) {
  return (
    <>
      {info.invited_by ?? "Someone"} invites you to join <strong>{info.studio_name}</strong> as {roleLabel(info.role).toLowerCase()}
    </>
  );
}
