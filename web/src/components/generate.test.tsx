// The generate panel's own behaviour: the shot's draft, smart edit's reasons, the input step, reuse, animate.
import { act, fireEvent, screen, waitFor, within } from "@testing-library/react";
import type { ReactNode } from "react";
import { afterEach, describe, expect, it, vi } from "vitest";
import type { AIModel, Asset } from "@/api/client";
import { useDrafts } from "@/stores/drafts";
import { asset, clientWithAssets, json, resetDrafts, stubFetch, withClient } from "@/test/render";
import { AnimateDialog } from "./AnimateDialog";
import { GeneratePanel } from "./GeneratePanel";

const nanoBanana = {
  id: 1,
  provider_model_id: "google/nano-banana",
  display_name: "Nano Banana",
  kind: "image",
  default_params: { aspect_ratio: "1:1" },
  capabilities: { input_images: null, params: { aspect_ratio: { type: "enum", values: ["1:1", "16:9"], default: "1:1" } } },
  price_credits: 4,
} as unknown as AIModel;
const edit = {
  ...nanoBanana,
  id: 2,
  provider_model_id: "google/nano-banana-edit",
  display_name: "Nano Banana Edit",
  capabilities: { ...nanoBanana.capabilities, input_images: { field: "image_urls", min: 1, max: 2 } },
} as unknown as AIModel;
const seedance = {
  ...nanoBanana,
  id: 3,
  provider_model_id: "bytedance/seedance-1.5-pro",
  display_name: "Seedance",
  kind: "video",
  default_params: { aspect_ratio: "16:9" },
  capabilities: { params: { aspect_ratio: { type: "enum", values: ["1:1", "4:3", "3:4", "16:9", "9:16"], default: "1:1" } } },
  price_credits: 28,
} as unknown as AIModel;

const usage = { spent_today: 0, daily_budget: 2000, remaining: 2000, running: 0, max_running: 8, resets_at: "2026-11-28T00:00:00Z", smart_edit_cost: 1.5, kie_balance: null };

function image(id: number, over: Partial<Asset> = {}): Asset {
  return asset({ prompt: `variant ${id}`, id, status: "COMPLETED", thumbnail_url: `https://s3/${id}.jpg`, ...over });
}

/** The API as the panel sees it: models, usage, and whatever `extra` answers. */
function serve(extra: (url: string, request?: Request) => Response | Promise<Response> | undefined = () => undefined, today = usage) {
  return stubFetch((url, request) => {
    if (url.includes("/api/models/")) return json([nanoBanana, edit, seedance]);
    if (url.includes("/me/usage/")) return json(today);
    return extra(url, request);
  });
}

/** The panel (or dialog) in a shot whose asset list is already loaded. */
const renderPanel = (ui: ReactNode, assets: Asset[] = []) => withClient(ui, clientWithAssets(assets));

const ready = () => waitFor(() => expect(screen.getByRole("option", { name: "Nano Banana" })).toBeTruthy(), { timeout: 10_000 });
const prompt = () => screen.getByLabelText("Prompt") as HTMLTextAreaElement;

afterEach(resetDrafts);

describe("GeneratePanel draft", () => {
  it("keeps the prompt, model and count of each shot when the panel goes away and comes back", async () => {
    serve();
    const first = renderPanel(<GeneratePanel boxId={2} />);
    await ready();
    fireEvent.change(prompt(), { target: { value: "a lighthouse at dusk" } });
    fireEvent.change(screen.getByLabelText("Variants"), { target: { value: "3" } });
    fireEvent.change(screen.getByLabelText("Model"), { target: { value: "google/nano-banana-edit" } });
    first.unmount();
    const other = renderPanel(<GeneratePanel boxId={3} />);
    await ready();
    expect(prompt().value).toBe(""); // another shot, another draft
    other.unmount();
    renderPanel(<GeneratePanel boxId={2} />);
    await ready();
    expect(prompt().value).toBe("a lighthouse at dusk");
    expect((screen.getByLabelText("Variants") as HTMLInputElement).value).toBe("3");
    expect((screen.getByLabelText("Model") as HTMLSelectElement).value).toBe("google/nano-banana-edit");
  });

  it("keeps the prompt after a successful generate", async () => {
    serve((url) => (url.includes("/generate/") ? json({ asset_id: 41, status: "PENDING", asset_ids: [41], workflow_ids: ["asset-41"] }, 202) : undefined));
    renderPanel(<GeneratePanel boxId={2} />);
    await ready();
    fireEvent.change(prompt(), { target: { value: "a red fox" } });
    await act(async () => {
      fireEvent.click(screen.getByTestId("generate"));
    });
    await waitFor(() => expect((screen.getByTestId("generate") as HTMLButtonElement).disabled).toBe(false));
    expect(prompt().value).toBe("a red fox");
  });
});

describe("smart edit", () => {
  const rewrite = () => screen.getByRole("button", { name: "Rewrite prompt" }) as HTMLButtonElement;

  it("says why it cannot run: no prompt, then no instruction", async () => {
    serve();
    renderPanel(<GeneratePanel boxId={2} />);
    await ready();
    expect(rewrite().disabled).toBe(true);
    expect(screen.getByTestId("smart-edit-why").textContent).toBe("Write a prompt first: smart edit rewrites it.");
    fireEvent.change(prompt(), { target: { value: "a fox by day" } });
    expect(screen.getByTestId("smart-edit-why").textContent).toBe("Say what to change, e.g. “make it night, add rain”.");
    fireEvent.change(screen.getByLabelText("Instruction"), { target: { value: "make it night" } });
    expect(screen.queryByTestId("smart-edit-why")).toBeNull();
    expect(rewrite().disabled).toBe(false);
  });

  it("says when today's credit limit is reached", async () => {
    serve(undefined, { ...usage, spent_today: 1999, remaining: 1 });
    renderPanel(<GeneratePanel boxId={2} />);
    await ready();
    fireEvent.change(prompt(), { target: { value: "a fox" } });
    fireEvent.change(screen.getByLabelText("Instruction"), { target: { value: "make it night" } });
    await waitFor(() =>
      expect(screen.getByTestId("smart-edit-why").textContent).toBe("Today's credit limit is reached: a smart edit costs 1.5 credits and 1 remain until 00:00 UTC."),
    );
    expect(rewrite().disabled).toBe(true);
  });

  it("says when the LLM cannot be used (the API's 503), and offers to try again", async () => {
    serve((url) => (url.includes("/smart-edit/") ? json({ detail: "The LLM provider is not reachable.", code: "upstream_unavailable" }, 503) : undefined));
    renderPanel(<GeneratePanel boxId={2} />);
    await ready();
    fireEvent.change(prompt(), { target: { value: "a fox" } });
    fireEvent.change(screen.getByLabelText("Instruction"), { target: { value: "make it night" } });
    await act(async () => fireEvent.click(rewrite()));
    await waitFor(() => expect(screen.getByTestId("smart-edit-error").textContent).toMatch(/^Smart edit is unavailable: .*The LLM provider is not reachable\./));
    expect(screen.getByRole("button", { name: "Try again" })).toBeTruthy();
  });

  it("shows the difference, and Use replaces the prompt (Discard keeps it)", async () => {
    serve((url) => (url.includes("/smart-edit/") ? json({ id: 1, box_id: 2, instruction: "night", original_prompt: "a fox by day", prompt: "a fox by night", model: "gemini", created_at: "2026-11-27T00:00:00Z" }, 201) : undefined));
    renderPanel(<GeneratePanel boxId={2} />);
    await ready();
    fireEvent.change(prompt(), { target: { value: "a fox by day" } });
    fireEvent.change(screen.getByLabelText("Instruction"), { target: { value: "night" } });
    await act(async () => fireEvent.keyDown(screen.getByLabelText("Instruction"), { key: "Enter" })); // Enter rewrites, it does not generate
    await waitFor(() => expect(screen.getByTestId("prompt-diff").querySelector("ins")?.textContent).toBe("night"));
    fireEvent.click(screen.getByRole("button", { name: "Discard" }));
    expect(prompt().value).toBe("a fox by day");
    await act(async () => fireEvent.click(rewrite()));
    await waitFor(() => screen.getByTestId("prompt-diff"));
    fireEvent.click(screen.getByRole("button", { name: "Use" }));
    expect(prompt().value).toBe("a fox by night");
    expect(screen.queryByTestId("prompt-diff")).toBeNull();
  });
});

describe("input images", () => {
  it("are their own step: the rule in words, a picker of the shot's finished images up to the model's maximum, remove each", async () => {
    serve();
    const images = [image(11), image(12), image(13), image(14, { status: "FAILED" }), image(15, { kind: "video" })];
    renderPanel(<GeneratePanel boxId={2} />, images);
    await ready();
    expect(screen.queryByTestId("input-images")).toBeNull(); // Nano Banana takes none
    fireEvent.change(screen.getByLabelText("Model"), { target: { value: "google/nano-banana-edit" } });
    fireEvent.change(prompt(), { target: { value: "add a boat" } });
    expect(screen.getByTestId("input-rule").textContent).toBe("Nano Banana Edit needs 1–2 input images; 0 chosen.");
    expect((screen.getByTestId("generate") as HTMLButtonElement).disabled).toBe(true);
    expect(screen.getByTestId("generate-why").textContent).toBe("Choose the input images first.");
    fireEvent.click(screen.getByRole("button", { name: "Choose images…" }));
    const dialog = within(screen.getByRole("dialog", { name: "Choose input images" }));
    expect(dialog.getAllByRole("checkbox")).toHaveLength(3); // only finished images
    fireEvent.click(dialog.getByLabelText("Use variant #11 as input"));
    fireEvent.click(dialog.getByLabelText("Use variant #13 as input"));
    expect((dialog.getByLabelText("Use variant #12 as input") as HTMLInputElement).disabled).toBe(true); // at the maximum
    fireEvent.click(dialog.getByRole("button", { name: "Use 2 images" }));
    expect(screen.queryByRole("dialog")).toBeNull();
    expect(screen.getAllByTestId("input-image").map((li) => li.dataset.assetId)).toEqual(["11", "13"]);
    expect(screen.getByTestId("input-rule").textContent).toBe("Nano Banana Edit needs 1–2 input images; 2 chosen.");
    expect((screen.getByTestId("generate") as HTMLButtonElement).disabled).toBe(false);
    fireEvent.click(screen.getByRole("button", { name: "Remove input image #11" }));
    expect(useDrafts.getState().draft(2).inputIds).toEqual([13]);
    fireEvent.change(screen.getByLabelText("Model"), { target: { value: "google/nano-banana" } });
    expect(screen.getByTestId("input-rule").textContent).toBe(
      "1 image is marked as input; Nano Banana takes no input images (choose an edit model to use it).",
    );
  });

  it("forgets an input that is no longer a finished image of the shot", async () => {
    serve();
    useDrafts.getState().update(2, { model: "google/nano-banana-edit", inputIds: [11, 99] });
    renderPanel(<GeneratePanel boxId={2} />, [image(11)]);
    await waitFor(() => expect(useDrafts.getState().draft(2).inputIds).toEqual([11]));
  });
});

describe("reuse prompt and settings", () => {
  it("refills the panel, puts the focus in the prompt, says where it came from, and Undo brings the draft back", async () => {
    serve();
    const scrolled = vi.fn(); // jsdom lays nothing out: record that the prompt was scrolled to
    Element.prototype.scrollIntoView = scrolled;
    renderPanel(<GeneratePanel boxId={2} />, [image(11), image(12)]);
    await ready();
    fireEvent.change(prompt(), { target: { value: "my own prompt" } });
    act(() => useDrafts.getState().reuse(2, image(12, { prompt: "add a red boat", model: "google/nano-banana-edit", params: { aspect_ratio: "16:9" }, input_asset_ids: [11] })));
    expect(prompt().value).toBe("add a red boat");
    expect(document.activeElement).toBe(prompt());
    expect(scrolled.mock.contexts).toEqual([prompt()]);
    expect((screen.getByLabelText("Model") as HTMLSelectElement).value).toBe("google/nano-banana-edit");
    expect((screen.getByLabelText("Aspect ratio") as HTMLSelectElement).value).toBe("16:9");
    expect(screen.getAllByTestId("input-image").map((li) => li.dataset.assetId)).toEqual(["11"]);
    expect(screen.getByTestId("reused-note").textContent).toContain("Reused from variant #12.");
    fireEvent.click(screen.getByRole("button", { name: "Undo" }));
    expect(prompt().value).toBe("my own prompt");
    expect((screen.getByLabelText("Model") as HTMLSelectElement).value).toBe("google/nano-banana");
    expect(screen.queryByTestId("reused-note")).toBeNull();
  });
});

describe("AnimateDialog", () => {
  it("defaults the aspect ratio to the source image's and asks for a motion prompt", async () => {
    serve();
    renderPanel(<AnimateDialog source={image(11, { width: 768, height: 1344 })} onClose={() => {}} />);
    const ratio = (await screen.findByLabelText("Aspect ratio", {}, { timeout: 10_000 })) as HTMLSelectElement;
    await waitFor(() => expect(ratio.value).toBe("9:16")); // the model's own default is 16:9
    const motion = screen.getByLabelText("Motion prompt (required)") as HTMLTextAreaElement;
    expect(motion.value).toBe(""); // not the image's prompt
    expect(motion.placeholder).toBe("Describe the motion: camera, subject, pace…");
    expect((screen.getByTestId("animate-submit") as HTMLButtonElement).disabled).toBe(true);
    expect(screen.getByTestId("animate-why").textContent).toBe("Describe the motion to animate.");
    fireEvent.change(motion, { target: { value: "slow push in" } });
    expect((screen.getByTestId("animate-submit") as HTMLButtonElement).disabled).toBe(false);
  });
});
