"""LLM activities: rewrite a prompt through Kie.ai chat (`stream: false`). Errors become typed ApplicationErrors."""

from __future__ import annotations

from temporalio import activity
from temporalio.exceptions import ApplicationError

from activities.kie import application_error
from core.kie import KieClient, KieError
from core.smart_edit import AnswerRefused, RewritePromptInput, RewritePromptResult, clean_answer, user_message


class LlmActivities:
    def __init__(self, client: KieClient) -> None:
        self.client = client

    @activity.defn(name="rewrite_prompt")
    async def rewrite_prompt(self, payload: RewritePromptInput) -> RewritePromptResult:
        messages = [
            {
                "role": "user",
                "content": [{"type": "text", "text": user_message(payload.prompt, payload.instruction)}],
            }
        ]
        if payload.system_prompt.strip():
            messages.insert(
                0, {"role": "system", "content": [{"type": "text", "text": payload.system_prompt}]}
            )
        try:
            answer = await self.client.chat_completion(payload.model, messages)
        except KieError as exc:
            raise application_error(exc) from exc
        try:
            prompt = clean_answer(answer, payload.max_result_length)
        except AnswerRefused as exc:
            # The same question gets the same kind of answer: asking again does not help.
            raise ApplicationError(exc.message, type=exc.kind, non_retryable=True) from exc
        return RewritePromptResult(prompt=prompt, model=payload.model)
