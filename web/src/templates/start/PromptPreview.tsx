import { previewFirstPrompts, type Template } from '@conclave/contracts';
import { useMemo } from 'react';

/**
 * The first prompts the run sends (the phases with no dependencies), rendered with the inputs by the
 * orchestrator's own renderer (libs/contracts), so the preview follows every keystroke.
 */
export function PromptPreview({ template, inputs }: { template: Template; inputs: Record<string, unknown> }) {
  const previews = useMemo(() => previewFirstPrompts(template, inputs), [template, inputs]);
  return (
    <section className="start-run__panel" aria-labelledby="prompt-preview-heading">
      <h3 id="prompt-preview-heading" className="start-run__subhead">
        First prompt
      </h3>
      {previews.length === 0 ? (
        <p className="muted small">No phase this run starts with sends a prompt (it starts with a gate, a condition or a tool).</p>
      ) : (
        previews.map((p) => (
          <div key={p.phaseId} className="prompt-preview">
            <p className="muted small">
              Phase <span className="mono">{p.name ?? p.phaseId}</span>
            </p>
            {p.system !== undefined && (
              <>
                <p className="prompt-preview__role">System</p>
                <pre className="code prompt-preview__text" tabIndex={0} aria-label={`System prompt of ${p.phaseId}`}>
                  {p.system}
                </pre>
              </>
            )}
            <p className="prompt-preview__role">User</p>
            <pre className="code prompt-preview__text" tabIndex={0} aria-label={`User prompt of ${p.phaseId}`} data-testid={`prompt-${p.phaseId}`}>
              {p.user}
            </pre>
          </div>
        ))
      )}
    </section>
  );
}
