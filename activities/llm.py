"""LLM activities: rewrite a prompt through Kie.ai chat (`stream: false`). Errors become typed ApplicationErrors."""

from __future__ import annotations

from temporalio import activity
from temporalio.exceptions import ApplicationError

from activities.kie import application_error
from core.contract import REWRITE_PROMPT, AnswerRefused, KieError, RewritePromptInput, RewritePromptResult
from core.kie import KieClient
from core.smart_edit import clean_answer, user_message


class LlmActivities:
    def __init__(self, client: KieClient) -> None:
        self.client = client

    @activity.defn(name=REWRITE_PROMPT)
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
            raise ApplicationError(exc.message, type=type(exc).__name__, non_retryable=True) from exc
        return RewritePromptResult(prompt=prompt, model=payload.model)
