import type { TemplateValidation } from '@conclave/contracts';
import { TemplateErrorList } from '../ui/TemplateErrorList';

/** The validator's answer: located errors, or the execution levels of a valid template. */
export function ValidationResult({ result }: { result: TemplateValidation }) {
  if (!result.valid) {
    return (
      <div className="notice notice--error" role="status">
        <div className="notice__head">
          <strong>
            {result.errors.length} problem{result.errors.length === 1 ? '' : 's'} found
          </strong>
        </div>
        <TemplateErrorList errors={result.errors} />
      </div>
    );
  }
  return (
    <div className="notice notice--ok" role="status">
      <div className="notice__head">
        <strong>Valid template</strong>
      </div>
      <p>Execution levels (phases of a level run in parallel):</p>
      <ol className="levels">
        {result.levels.map((level, i) => (
          <li key={i}>
            {level.map((id) => (
              <code key={id} className="level-phase">
                {id}
              </code>
            ))}
          </li>
        ))}
      </ol>
    </div>
  );
}
