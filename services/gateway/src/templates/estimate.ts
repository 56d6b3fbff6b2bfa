import { ConclaveError, estimateRun, previewFirstPrompts, priceLookupOf, type EstimateResponse, type ProviderView, type TemplateView } from '@conclave/contracts';
import { schemaErrors } from './schema-compiler';

/**
 * `POST /templates/:id/estimate`: what a run of this template version would cost, priced with the
 * configured providers' prices over the default table, and its first prompts rendered with the
 * inputs. Refuses (422, nothing changes) inputs the start would refuse and models with no price.
 */
export function estimateTemplate(view: TemplateView, providers: readonly ProviderView[], inputs: Record<string, unknown> | undefined): EstimateResponse {
  const template = view.template;
  if (inputs !== undefined) {
    const errors = schemaErrors(inputs, template.inputs);
    if (errors.length > 0) throw new ConclaveError('validation', `the inputs do not match the template's inputs schema: ${errors[0]}`, { errors });
  }
  const result = estimateRun(template, priceLookupOf(providers));
  if (!result.ok) {
    const named = result.missing.map((m) => `${m.provider}/${m.model} (${m.role} of phase "${m.phaseId}")`);
    throw new ConclaveError(
      'validation',
      `no price for ${named.join(', ')}: add the model's inputPer1M and outputPer1M to the provider's prices`,
      { problem: 'missing_price', missing: result.missing },
    );
  }
  return { templateId: view.id, version: view.version, currency: 'USD', ...result.estimate, preview: previewFirstPrompts(template, inputs ?? {}) };
}
