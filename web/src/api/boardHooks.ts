// Server state for the board: creating many shots at once from a pasted script.
"use client";
import { useMutation, useQueryClient } from "@tanstack/react-query";
import { api, unwrap } from "./client";
import { keys } from "./hooks";

export interface NewShot {
  title: string;
  notes: string;
  code: string | null;
}

/** One request for all of them: the server creates every shot or none. */
export function useBulkCreateBoxes(projectId: number) {
  const qc = useQueryClient();
  return useMutation({
    mutationFn: (boxes: NewShot[]) =>
      unwrap(
        api.POST("/api/projects/{project_id}/boxes/bulk/", { params: { path: { project_id: projectId } }, body: { boxes } }),
      ),
    onSuccess: () => qc.invalidateQueries({ queryKey: keys.boxes(projectId) }),
  });
}
