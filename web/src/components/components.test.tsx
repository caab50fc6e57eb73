import { QueryClient } from "@tanstack/react-query";
import { act, fireEvent, render, screen, waitFor } from "@testing-library/react";
import { afterEach, describe, expect, it, vi } from "vitest";
import type { AIModel, Asset } from "@/api/client";
import { keys } from "@/api/hooks";
import { applyEvent } from "@/lib/useProjectLive";
import { GeneratePanel } from "./GeneratePanel";
import { ParamsForm } from "./ParamsForm";
import { PromptDiff } from "./PromptDiff";
import { ReviewMedia, ReviewPage } from "./ReviewPage";
import { LiveIndicator } from "./Shell";
import { useLive } from "@/stores/ui";
import { asset, clientWithAssets, json, resetDrafts, stubFetch, urlOf, withClient } from "@/test/render";

const nanoBanana = {
  id: 1,
  provider: "kie",
  provider_model_id: "google/nano-banana",
  display_name: "Nano Banana",
  kind: "image",
  default_params: { aspect_ratio: "1:1", output_format: "png" },
  capabilities: {
    prompt: { min_length: 1, max_length: 5000 },
    input_images: null,
    params: {
      aspect_ratio: { type: "enum", values: ["1:1", "16:9"], default: "1:1" },
      output_format: { type: "enum", values: ["png", "jpeg"], default: "png" },
    },
  },
  price_credits: 4,
} as unknown as AIModel;

const seedance = {
  ...nanoBanana,
  id: 3,
  provider_model_id: "bytedance/seedance-1.5-pro",
  display_name: "Seedance",
  kind: "video",
  default_params: {},
  capabilities: { params: { duration: { type: "enum", values: [4, 8], default: 8 }, generate_audio: { type: "bool", default: false } } },
} as unknown as AIModel;

afterEach(resetDrafts);

describe("ParamsForm", () => {
  it("shows only the parameters the chosen model supports", () => {
    const { rerender } = render(<ParamsForm model={nanoBanana} values={{}} onChange={() => {}} />);
    expect(screen.getByLabelText("Aspect ratio")).toBeTruthy();
    expect(screen.getByLabelText("Output format")).toBeTruthy();
    expect(screen.queryByLabelText("Duration")).toBeNull();
    rerender(<ParamsForm model={seedance} values={{ duration: 8 }} onChange={() => {}} />);
    expect(screen.queryByLabelText("Aspect ratio")).toBeNull();
    expect(screen.getByLabelText("Duration")).toBeTruthy();
    expect(screen.getByLabelText("Generate audio")).toBeTruthy();
  });

  it("keeps numeric option values as numbers", () => {
    const onChange = vi.fn();
    render(<ParamsForm model={seedance} values={{ duration: 8 }} onChange={onChange} />);
    fireEvent.change(screen.getByLabelText("Duration"), { target: { value: "4" } });
    expect(onChange).toHaveBeenCalledWith({ duration: 4 });
  });
});

describe("PromptDiff", () => {
  it("highlights what the rewrite added and removed", () => {
    const { container } = render(<PromptDiff before="a fox by day" after="a fox by night" />);
    expect(container.querySelector("del")?.textContent).toBe("day");
    expect(container.querySelector("ins")?.textContent).toBe("night");
  });
});

describe("live events", () => {
  it("patch the asset in every cached list, and refetch when it is final", () => {
    const qc = new QueryClient();
    qc.setQueryData(keys.assetList(2, {}), { items: [asset({ status: "PENDING" })], total: 1, limit: 200, offset: 0 });
    const spy = vi.spyOn(qc, "invalidateQueries");
    applyEvent(qc, { type: "asset_status_changed", project_id: 1, ts: 1, data: { asset_id: 10, box_id: 2, status: "RUNNING" } });
    expect(qc.getQueryData<{ items: Asset[] }>(keys.assetList(2, {}))?.items[0]?.status).toBe("RUNNING");
    expect(spy).not.toHaveBeenCalled();
    applyEvent(qc, { type: "asset_status_changed", project_id: 1, ts: 1, data: { asset_id: 10, box_id: 2, status: "FAILED", error_message: "boom" } });
    const item = qc.getQueryData<{ items: Asset[] }>(keys.assetList(2, {}))?.items[0];
    expect(item?.status).toBe("FAILED");
    expect(item?.error_message).toBe("boom");
    expect(spy).toHaveBeenCalledWith({ queryKey: keys.assets(2) });
  });
});

describe("GeneratePanel", () => {
  it("puts PENDING cards in the grid at once, before the server answers", async () => {
    let answer: (r: Response) => void = () => {};
    const fetchMock = stubFetch((url) => {
      if (url.includes("/api/models/")) return json([nanoBanana, seedance]);
      if (url.includes("/generate/")) return new Promise<Response>((resolve) => (answer = resolve));
    });
    const { qc } = withClient(<GeneratePanel boxId={2} />, clientWithAssets());
    await waitFor(() => expect(screen.getByRole("option", { name: /Nano Banana/ })).toBeTruthy(), { timeout: 10_000 });
    fireEvent.change(screen.getByLabelText("Prompt"), { target: { value: "a red fox" } });
    fireEvent.change(screen.getByLabelText("Variants"), { target: { value: "2" } });
    await act(async () => {
      fireEvent.click(screen.getByTestId("generate"));
    });
    await waitFor(() => {
      const items = qc.getQueryData<{ items: Asset[] }>(keys.assetList(2, {}))?.items ?? [];
      expect(items.map((a) => a.status)).toEqual(["PENDING", "PENDING"]);
    });
    const call = fetchMock.mock.calls.find(([u]) => urlOf(u).includes("/boxes/2/generate/"));
    expect(call).toBeTruthy();
    const sent = await (call![0] as Request).clone().json();
    expect(sent).toEqual({ model: "google/nano-banana", prompt: "a red fox", params: { aspect_ratio: "1:1", output_format: "png" }, count: 2 });
    await act(async () => {
      answer(json({ asset_id: 41, status: "PENDING", asset_ids: [41, 42], workflow_ids: ["asset-41", "asset-42"] }, 202));
    });
    await waitFor(() => {
      const items = qc.getQueryData<{ items: Asset[] }>(keys.assetList(2, {}))?.items ?? [];
      expect(items.map((a) => a.id)).toEqual([41, 42]);
    });
  });
});

describe("GeneratePanel cost", () => {
  it("shows the request's estimate from every parameter, today's usage, a refusal's sentence, and no fixed price", async () => {
    const usage = { spent_today: 312, daily_budget: 2000, remaining: 1688, running: 2, max_running: 8, resets_at: "2026-11-28T00:00:00Z", smart_edit_cost: 1, kie_balance: null };
    const refusal = { detail: "Your daily budget is 2000 credits: 1990 spent today, 10 left; this request needs 16 (4 × 4). It resets at 00:00 UTC, in 5 h 12 min.", code: "rate_limited" };
    stubFetch((url) => {
      if (url.includes("/api/models/")) return json([nanoBanana, { ...seedance, price_credits: 28, capabilities: { ...seedance.capabilities, credits_per_second: { "720p": { silent: 3.5, audio: 7 } } } }]);
      if (url.includes("/me/usage/")) return json(usage);
      if (url.includes("/generate/")) return json(refusal, 429);
    });
    withClient(<GeneratePanel boxId={2} />);
    await waitFor(() => expect(screen.getByRole("option", { name: "Nano Banana" })).toBeTruthy(), { timeout: 10_000 });
    expect(screen.getByRole("option", { name: "Seedance" })).toBeTruthy(); // no "(28 credits)"
    expect(screen.getByTestId("estimate").textContent).toBe("Estimated cost: 4 credits");
    fireEvent.change(screen.getByLabelText("Variants"), { target: { value: "4" } });
    expect(screen.getByTestId("estimate").textContent).toBe("Estimated cost: 4 × 4 = 16 credits");
    fireEvent.change(screen.getByLabelText("Model"), { target: { value: "bytedance/seedance-1.5-pro" } });
    await waitFor(() => expect(screen.getByTestId("estimate").textContent).toBe("Estimated cost: 4 × 28 = 112 credits"));
    await waitFor(() => expect(screen.getByTestId("usage").textContent).toBe("312 of 2000 credits today · 2 of 8 running"));
    fireEvent.change(screen.getByLabelText("Model"), { target: { value: "google/nano-banana" } });
    fireEvent.change(screen.getByLabelText("Prompt"), { target: { value: "a red fox" } });
    await act(async () => {
      fireEvent.click(screen.getByTestId("generate"));
    });
    await waitFor(() => expect(screen.getByRole("alert").textContent).toBe(refusal.detail));
  });

  it("shows a smart edit's estimated cost (usage.smart_edit_cost) before the rewrite is asked for", async () => {
    const usage = { spent_today: 0, daily_budget: 2000, remaining: 2000, running: 0, max_running: 8, resets_at: "2026-11-28T00:00:00Z", smart_edit_cost: 1.5, kie_balance: null };
    const sent: string[] = [];
    stubFetch((url) => {
      sent.push(url);
      if (url.includes("/api/models/")) return json([nanoBanana]);
      if (url.includes("/me/usage/")) return json(usage);
    });
    withClient(<GeneratePanel boxId={2} />);
    await waitFor(() => expect(screen.getByTestId("smart-edit-estimate").textContent).toBe("Estimated cost: 1.5 credits"));
    expect(sent.some((url) => url.includes("/smart-edit/"))).toBe(false); // shown before anything is sent
  });
});

describe("GeneratePanel double-click", () => {
  it("sends one generate request for two clicks in the same tick, and is disabled until the server answers", async () => {
    let answer: (r: Response) => void = () => {};
    const fetchMock = stubFetch((url) => {
      if (url.includes("/api/models/")) return json([nanoBanana]);
      if (url.includes("/generate/")) return new Promise<Response>((resolve) => (answer = resolve));
    });
    withClient(<GeneratePanel boxId={2} />, clientWithAssets());
    await waitFor(() => expect(screen.getByRole("option", { name: /Nano Banana/ })).toBeTruthy(), { timeout: 10_000 });
    fireEvent.change(screen.getByLabelText("Prompt"), { target: { value: "a red fox" } });
    const button = screen.getByTestId("generate") as HTMLButtonElement;
    const generateCalls = () => fetchMock.mock.calls.filter(([u]) => urlOf(u).includes("/generate/"));
    await act(async () => {
      // Both submits land before React re-renders or React Query notifies: only the component's guard stops the second.
      fireEvent.submit(button.form!);
      fireEvent.submit(button.form!);
    });
    await waitFor(() => expect(generateCalls()).toHaveLength(1));
    expect(button.disabled).toBe(true);
    fireEvent.click(button);
    await act(async () => {
      await new Promise((r) => setTimeout(r, 20));
    });
    expect(generateCalls()).toHaveLength(1);
    await act(async () => {
      answer(json({ asset_id: 41, status: "PENDING", asset_ids: [41], workflow_ids: ["asset-41"] }, 202));
    });
    await waitFor(() => expect(button.disabled).toBe(false));
    expect(generateCalls()).toHaveLength(1);
  });
});

describe("ReviewMedia", () => {
  const image = {
    ref: "r1",
    kind: "image",
    prompt: "a lighthouse",
    model: "google/nano-banana",
    model_name: "Nano Banana",
    file_url: "https://s3/full.png?sig",
    thumbnail_url: "https://s3/thumb.jpg?sig",
    mime_type: "image/png",
    width: 1024,
    height: 576,
    duration_seconds: null,
  } as const;

  it("shows the full-resolution file at its own size and aspect ratio, not the thumbnail", () => {
    render(<ReviewMedia asset={image} poster={null} />);
    const img = screen.getByRole("img") as HTMLImageElement;
    expect(img.getAttribute("src")).toBe(image.file_url);
    expect([img.getAttribute("width"), img.getAttribute("height")]).toEqual(["1024", "576"]);
  });

  it("gives a video the sharp headliner as its poster, and a placeholder when nothing is chosen", () => {
    const video = { ...image, kind: "video" as const, file_url: "https://s3/v.mp4", width: 1280, height: 720 };
    const { container } = render(<ReviewMedia asset={video} poster={image} />);
    expect(container.querySelector("video")?.getAttribute("poster")).toBe(image.file_url);
    render(<ReviewMedia asset={null} poster={null} />);
    expect(screen.getByText("No image selected yet")).toBeTruthy();
  });
});

describe("ReviewPage", () => {
  it("says so clearly when the link is revoked or expired", async () => {
    window.history.pushState({}, "", "/review/8a2b0c9e-0000-4000-8000-000000000000/");
    stubFetch(() => json({ detail: "This review link has expired.", code: "gone" }, 410));
    vi.stubGlobal(
      "WebSocket",
      class {
        onclose: ((e: { code: number }) => void) | null = null;
        constructor() {
          setTimeout(() => this.onclose?.({ code: 1008 }), 0);
        }
        close() {}
      },
    );
    withClient(<ReviewPage />);
    await waitFor(() => expect(screen.getByTestId("review-unavailable").textContent).toMatch(/expired or was revoked/));
  });
});

describe("LiveIndicator", () => {
  afterEach(() => act(() => useLive.getState().setState("closed")));

  it("says why live updates stopped instead of a bare 'refused'", () => {
    act(() => useLive.getState().setState("denied", "Your account has been deactivated; ask an administrator."));
    render(<LiveIndicator />);
    const indicator = screen.getByTestId("live-state");
    expect(indicator.dataset.state).toBe("denied");
    expect(indicator.textContent).toBe("Live updates stopped: Your account has been deactivated; ask an administrator.");
  });
});
