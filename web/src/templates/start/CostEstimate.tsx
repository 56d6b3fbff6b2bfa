import type { EstimateFigures, EstimateResponse } from '@conclave/contracts';
import { Link } from 'react-router-dom';
import { isApiError } from '../../api/client';
import { formatTokens, formatUsd } from '../../lib/format';
import { Table, type Column } from '../../ui/DataTable';
import { ErrorNotice } from '../../ui/ErrorNotice';

interface Props {
  estimate: EstimateResponse | undefined;
  error: unknown;
  pending: boolean;
  /** the budget the run will start with (the form's, else the template's default), or null */
  budgetUsd: number | null;
  onRetry: () => void;
}

interface MissingPrice {
  phaseId: string;
  role: string;
  provider: string;
  model: string;
}

function missingPricesOf(error: unknown): MissingPrice[] | null {
  if (!isApiError(error) || error.status !== 422) return null;
  const details = error.details as { problem?: unknown; missing?: unknown } | null | undefined;
  return details?.problem === 'missing_price' && Array.isArray(details.missing) ? (details.missing as MissingPrice[]) : null;
}

/** What the run would cost, before it starts: min / expected / max, per phase, and how it was worked out. */
export function CostEstimate({ estimate, error, pending, budgetUsd, onRetry }: Props) {
  const missing = missingPricesOf(error);
  return (
    <section className="start-run__panel" aria-labelledby="estimate-heading" aria-busy={pending || undefined}>
      <h3 id="estimate-heading" className="start-run__subhead">
        Cost estimate
      </h3>
      {missing ? (
        <div className="notice notice--warn" role="status">
          <p className="notice__message">
            No price is known for{' '}
            {missing.map((m, i) => (
              <span key={`${m.phaseId}/${m.role}/${m.model}`}>
                {i > 0 && ', '}
                <code>
                  {m.provider}/{m.model}
                </code>{' '}
                ({m.role} of <code>{m.phaseId}</code>)
              </span>
            ))}
            . The run can start, but its budget cannot count these calls.
          </p>
          <p className="small">
            Add the model&apos;s prices to the provider in <Link to="/providers">Providers</Link>.
          </p>
        </div>
      ) : error ? (
        <ErrorNotice error={error} title="Could not estimate the cost" onRetry={onRetry} />
      ) : !estimate ? (
        <p className="muted small">Estimating…</p>
      ) : (
        <EstimateBody estimate={estimate} budgetUsd={budgetUsd} />
      )}
    </section>
  );
}

const PHASE_COLUMNS: Column<EstimateResponse['phases'][number]>[] = [
  {
    id: 'phase',
    header: 'Phase',
    rowHeader: true,
    cell: (p) => (
      <>
        <span className="mono">{p.name ?? p.phaseId}</span> <span className="muted small">{p.kind}</span>
        <div className="estimate__basis">{p.basis}</div>
        <div className="estimate__calls">{p.calls.map((c) => `${c.role} ${c.model} ${c.price ? formatUsd(c.usd) : 'free'}`).join(' · ')}</div>
      </>
    ),
  },
  { id: 'min', header: 'Min', numeric: true, cell: (p) => formatUsd(p.min.usd) },
  { id: 'expected', header: 'Expected', numeric: true, cell: (p) => formatUsd(p.expected.usd) },
  { id: 'max', header: 'Max', numeric: true, cell: (p) => formatUsd(p.max.usd) },
];

function EstimateBody({ estimate, budgetUsd }: { estimate: EstimateResponse; budgetUsd: number | null }) {
  const figures: [string, EstimateFigures][] = [
    ['Min', estimate.min],
    ['Expected', estimate.expected],
    ['Max', estimate.max],
  ];
  const priced = estimate.phases.filter((p) => p.calls.length > 0);
  return (
    <>
      <dl className="estimate__figures" aria-label="Estimated cost of the run">
        {figures.map(([label, f]) => (
          <div key={label} className={`estimate__figure${label === 'Expected' ? ' estimate__figure--main' : ''}`}>
            <dt>{label}</dt>
            <dd>
              <span className="estimate__usd" data-testid={`estimate-${label.toLowerCase()}`}>
                {formatUsd(f.usd)}
              </span>
              <span className="muted small">
                {formatTokens(f.tokens.input + f.tokens.output)} tokens · {f.calls} call{f.calls === 1 ? '' : 's'}
              </span>
            </dd>
          </div>
        ))}
      </dl>
      {budgetUsd !== null && <BudgetNote budgetUsd={budgetUsd} estimate={estimate} />}
      {priced.length > 0 && (
        <Table caption="Estimated cost per phase" columns={PHASE_COLUMNS} rows={priced} rowKey={(p) => p.phaseId} compact className="estimate__phases" />
      )}
      <details className="estimate__assumptions">
        <summary>How this is estimated</summary>
        <ul>
          {estimate.assumptions.map((a) => (
            <li key={a}>{a}</li>
          ))}
        </ul>
      </details>
    </>
  );
}

function BudgetNote({ budgetUsd, estimate }: { budgetUsd: number; estimate: EstimateResponse }) {
  if (budgetUsd < estimate.expected.usd) {
    return (
      <p className="notice notice--warn small" role="status">
        The budget ({formatUsd(budgetUsd)}) is below the expected cost: the run will likely pause for budget before it finishes.
      </p>
    );
  }
  if (budgetUsd < estimate.max.usd) {
    return <p className="muted small">The budget ({formatUsd(budgetUsd)}) covers the expected cost; the run pauses if it goes towards the max.</p>;
  }
  return <p className="muted small">The budget ({formatUsd(budgetUsd)}) covers even the max.</p>;
}
