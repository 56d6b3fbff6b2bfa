import { chatStructured, costOf, isProviderError as isSdkError, priceOf, type ChatClientPool } from '@conclave/worker-kit';
import { ProviderError, type JudgeAdapter, type JudgeContext, type JudgeRequest, type Verdict } from '../domain/judge-provider';
import { buildJudgePrompt, checkJudgeAnswer, verdictFromAnswer } from '../domain/llm-verdict';

/**
 * LLM-as-judge over any SDK provider (Anthropic, OpenAI, Gemini, OpenAI-compatible): one structured
 * call in the provider's native JSON mode, one repair with the protocol errors, then a typed
 * `verdict_invalid` failure (retryable: another attempt may well answer correctly). Cost = the
 * call's usage × the model's price.
 */
export class LlmJudge implements JudgeAdapter {
  constructor(
    readonly name: string,
    private readonly pool: ChatClientPool,
    private readonly simulated: JudgeAdapter,
  ) {}

  async judge(request: JudgeRequest, ctx: JudgeContext): Promise<Verdict> {
    let resolved;
    try {
      resolved = await this.pool.resolve(this.name, request.model);
    } catch (err) {
      if (isSdkError(err)) throw new ProviderError(err.code, err.message, err.retryable);
      throw err;
    }
    // a provider of kind `simulated` under another name: the offline judge answers
    if (resolved.kind === 'simulated') return this.simulated.judge(request, ctx);
    const { client, credentials } = resolved;
    const prompt = buildJudgePrompt(request);
    try {
      const result = await chatStructured(
        client,
        { model: request.model, system: prompt.system, messages: [{ role: 'user', content: prompt.user }], schemaName: 'verdict', schema: prompt.schema },
        (_schema, value) => {
          const errors = checkJudgeAnswer(prompt, request, value);
          return errors.length === 0 ? { valid: true } : { valid: false, errors };
        },
        ctx,
      );
      const tokens = { input: result.usage.input, output: result.usage.output, ...(result.usage.cached > 0 ? { cached: result.usage.cached } : {}) };
      return { ...verdictFromAnswer(prompt, request, result.output, tokens), costUsd: costOf(result.usage, priceOf(request.model, credentials.prices ?? {})) };
    } catch (err) {
      if (ctx.signal.aborted) throw ctx.signal.reason;
      if (isSdkError(err)) {
        const code = err.code === 'output_invalid' ? 'verdict_invalid' : err.code;
        throw new ProviderError(code, err.message, err.code === 'output_invalid' ? true : err.retryable, err.extra.retryAfterMs !== undefined ? { retryAfterMs: err.extra.retryAfterMs } : {});
      }
      throw err;
    }
  }
}
