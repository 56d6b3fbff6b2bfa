import type { TemplateError } from '@conclave/contracts';

/** The validator's located errors: code, phase, field and message. */
export function TemplateErrorList({ errors }: { errors: readonly TemplateError[] }) {
  return (
    <div className="table-wrap">
      <table className="table table--compact">
        <caption className="sr-only">Template errors</caption>
        <thead>
          <tr>
            <th scope="col">Code</th>
            <th scope="col">Phase</th>
            <th scope="col">Field</th>
            <th scope="col">Message</th>
          </tr>
        </thead>
        <tbody>
          {errors.map((e, i) => (
            <tr key={i}>
              <td>
                <code>{e.code}</code>
              </td>
              <td>{e.phaseId ?? <span className="muted">—</span>}</td>
              <td>
                {e.field ? <code>{e.field}</code> : e.path.length > 0 ? <code>{e.path.join('.')}</code> : <span className="muted">—</span>}
              </td>
              <td>{e.message}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}
