import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { useState, type FormEvent } from 'react';
import { api, type ProviderBody } from '../api/endpoints';
import { keys } from '../api/keys';
import type { ProviderView } from '@conclave/contracts';
import { describeCommandError } from '../ui/feature-errors';
import { FeatureError } from '../ui/FeatureError';
import { SelectField } from '../ui/Select';
import { ConfirmButton } from '../ui/Dialog';
import { Loading } from '../ui/Loading';
import { notifyDone, notifyRefused } from '../ui/toast';

const KINDS = ['anthropic', 'openai', 'gemini', 'simulated'] as const;

/** Providers settings: add (the key is sent once and never shown again), test, enable/disable, prices. */
export default function ProvidersPage() {
  const providers = useQuery({ queryKey: keys.providers(), queryFn: ({ signal }) => api.listProviders({ signal }), retry: false });
  const [adding, setAdding] = useState(false);
  return (
    <div className="page">
      <title>Providers · Conclave</title>
      <header className="page-header">
        <div className="page-header__title">
          <h1>Providers</h1>
          <p className="muted">A template's candidates and judges name a provider here by its name; <code>simulated</code> always exists.</p>
        </div>
        <button type="button" className="btn btn--primary" aria-expanded={adding} onClick={() => setAdding((a) => !a)}>
          Add provider
        </button>
      </header>
      {adding && <ProviderForm onDone={() => setAdding(false)} />}
      {providers.isPending ? (
        <Loading label="Loading providers…" />
      ) : providers.isError ? (
        <FeatureError error={providers.error} feature="Providers" onRetry={() => void providers.refetch()} />
      ) : providers.data.items.length === 0 ? (
        <p className="muted">No provider configured.</p>
      ) : (
        <div className="provider-list">
          {providers.data.items.map((p) => (
            <ProviderCard key={p.id} provider={p} />
          ))}
        </div>
      )}
    </div>
  );
}

function ProviderCard({ provider: p }: { provider: ProviderView }) {
  const qc = useQueryClient();
  const invalidate = () => void qc.invalidateQueries({ queryKey: keys.providers() });
  const toggle = useMutation({
    mutationFn: (enabled: boolean) => api.updateProvider(p.id, { enabled }),
    onSuccess: (_, enabled) => {
      notifyDone(`Provider ${p.name} ${enabled ? 'enabled' : 'disabled'}`);
      invalidate();
    },
    onError: (error, enabled) => notifyRefused(`${enabled ? 'Enabling' : 'Disabling'} ${p.name} was refused`, error),
  });
  const test = useMutation({
    mutationFn: () => api.testProvider(p.id),
    onSuccess: (result) =>
      result.ok ? notifyDone(`Connection to ${p.name} works`, `${result.latencyMs} ms`) : notifyRefused(`Connection to ${p.name} failed`, new Error(result.error ?? 'no detail')),
    onError: (error) => notifyRefused(`Testing ${p.name} was refused`, error),
  });
  const remove = useMutation({
    mutationFn: () => api.deleteProvider(p.id),
    onSuccess: () => {
      notifyDone(`Provider ${p.name} deleted`);
      invalidate();
    },
    onError: (error) => notifyRefused(`Deleting ${p.name} was refused`, error),
  });
  const [editingPrices, setEditingPrices] = useState(false);
  const [editingKey, setEditingKey] = useState(false);
  const enabled = p.enabled !== false;
  return (
    <article className="card" aria-label={`Provider ${p.name}`}>
      <div className="card__head">
        <h2>
          {p.name} <code className="muted">{p.kind}</code> {!enabled && <span className="badge status--cancelled">disabled</span>}
          {p.failure && <span className="badge status--failed">failing</span>}
        </h2>
        <div className="actions">
          <button type="button" className="btn btn--small" disabled={test.isPending} onClick={() => test.mutate()}>
            {test.isPending ? 'Testing…' : 'Test connection'}
          </button>
          <button type="button" className="btn btn--small" disabled={toggle.isPending} onClick={() => toggle.mutate(!enabled)}>
            {enabled ? 'Disable' : 'Enable'}
          </button>
          <button type="button" className="btn btn--small" aria-expanded={editingPrices} onClick={() => setEditingPrices((e) => !e)}>
            Prices
          </button>
          {p.kind !== 'simulated' && p.hasApiKey && (
            <button type="button" className="btn btn--small" aria-expanded={editingKey} onClick={() => setEditingKey((e) => !e)}>
              Replace key
            </button>
          )}
          {p.kind !== 'simulated' && (
            <ConfirmButton
              label="Delete"
              title={`Delete provider ${p.name}?`}
              description="Templates that name it will fail to start their candidates until a provider of that name exists again."
              confirmLabel="Delete"
              variant="danger"
              size="small"
              disabled={remove.isPending}
              onConfirm={() => remove.mutate()}
            />
          )}
        </div>
      </div>
      <dl className="stats stats--inline">
        <div>
          <dt>API key</dt>
          <dd>
            {p.apiKeyLast4 ? (
              <code>••••{p.apiKeyLast4}</code>
            ) : p.kind === 'simulated' ? (
              <span className="muted">none</span>
            ) : (
              <span className="muted">none</span>
            )}
          </dd>
        </div>
        {p.baseUrl && (
          <div>
            <dt>Base URL</dt>
            <dd className="mono">{p.baseUrl}</dd>
          </div>
        )}
        <div>
          <dt>Models</dt>
          <dd>{p.models?.length ? p.models.join(', ') : <span className="muted">any</span>}</dd>
        </div>
      </dl>
      {p.failure && (
        <p className="notice notice--error">
          Calls are refused for their credentials ({p.failure.code}) since {new Date(p.failure.at).toLocaleString()}: {p.failure.message}. Replacing the key clears this,
          as does the next call through this provider that succeeds.
        </p>
      )}
      <div role="status" aria-live="polite">
        {test.data &&
          (test.data.ok ? (
            <p className="notice notice--ok">Connected{typeof test.data.latencyMs === 'number' ? ` in ${Math.round(test.data.latencyMs)} ms` : ''}.</p>
          ) : (
            <p className="notice notice--error">Connection failed: {typeof test.data.error === 'string' ? test.data.error : JSON.stringify(test.data.error)}</p>
          ))}
      </div>
      {(test.error || toggle.error || remove.error) && <p className="form-error">{describeCommandError(test.error ?? toggle.error ?? remove.error)}</p>}
      {p.kind !== 'simulated' && (!p.hasApiKey || editingKey) && (
        <KeyForm
          provider={p}
          onSaved={() => {
            setEditingKey(false);
            invalidate();
          }}
        />
      )}
      {editingPrices && <PricesForm provider={p} onDone={() => setEditingPrices(false)} />}
    </article>
  );
}

type PriceRow = { model: string; inputPer1M: string; outputPer1M: string };

function PricesForm({ provider, onDone }: { provider: ProviderView; onDone: () => void }) {
  const qc = useQueryClient();
  const [rows, setRows] = useState<PriceRow[]>(() =>
    Object.entries(provider.prices).map(([model, p]) => ({ model, inputPer1M: String(p.inputPer1M), outputPer1M: String(p.outputPer1M) })),
  );
  const save = useMutation({
    mutationFn: () =>
      api.updateProvider(provider.id, {
        prices: Object.fromEntries(rows.filter((r) => r.model.trim()).map((r) => [r.model.trim(), { inputPer1M: Number(r.inputPer1M), outputPer1M: Number(r.outputPer1M) }])),
      }),
    onSuccess: () => {
      notifyDone(`Prices of ${provider.name} saved`);
      void qc.invalidateQueries({ queryKey: keys.providers() });
      onDone();
    },
    onError: (error) => notifyRefused(`Saving the prices of ${provider.name} was refused`, error),
  });
  const invalid = rows.some((r) => r.model.trim() && (!(Number(r.inputPer1M) >= 0) || !(Number(r.outputPer1M) >= 0) || r.inputPer1M === '' || r.outputPer1M === ''));
  const set = (i: number, patch: Partial<PriceRow>) => setRows((rs) => rs.map((r, j) => (j === i ? { ...r, ...patch } : r)));
  return (
    <form
      className="form"
      onSubmit={(e) => {
        e.preventDefault();
        if (!invalid) save.mutate();
      }}
    >
      <table className="table table--compact">
        <caption>Prices in USD per million tokens</caption>
        <thead>
          <tr>
            <th scope="col">Model</th>
            <th scope="col">Input / 1M</th>
            <th scope="col">Output / 1M</th>
            <th scope="col">
              <span className="sr-only">Remove</span>
            </th>
          </tr>
        </thead>
        <tbody>
          {rows.map((r, i) => (
            <tr key={i}>
              <td>
                <input aria-label="Model" value={r.model} onChange={(e) => set(i, { model: e.target.value })} />
              </td>
              <td>
                <input aria-label="Input price per 1M tokens" type="number" min={0} step="0.01" value={r.inputPer1M} onChange={(e) => set(i, { inputPer1M: e.target.value })} />
              </td>
              <td>
                <input aria-label="Output price per 1M tokens" type="number" min={0} step="0.01" value={r.outputPer1M} onChange={(e) => set(i, { outputPer1M: e.target.value })} />
              </td>
              <td>
                <button type="button" className="btn btn--small btn--ghost" aria-label={`Remove ${r.model || 'row'}`} onClick={() => setRows((rs) => rs.filter((_, j) => j !== i))}>
                  ✕
                </button>
              </td>
            </tr>
          ))}
        </tbody>
      </table>
      <div className="actions">
        <button type="button" className="btn btn--small" onClick={() => setRows((rs) => [...rs, { model: '', inputPer1M: '', outputPer1M: '' }])}>
          + Model
        </button>
        <button type="submit" className="btn btn--small btn--primary" disabled={invalid || save.isPending}>
          Save prices
        </button>
      </div>
      {save.error && <p className="form-error">{describeCommandError(save.error)}</p>}
    </form>
  );
}

function ProviderForm({ onDone }: { onDone: () => void }) {
  const qc = useQueryClient();
  const [form, setForm] = useState({ name: '', kind: 'openai' as ProviderBody['kind'], apiKey: '', baseUrl: '', models: '' });
  const create = useMutation({
    mutationFn: () =>
      api.createProvider({
        name: form.name.trim(),
        kind: form.kind,
        ...(form.apiKey ? { apiKey: form.apiKey } : {}),
        ...(form.baseUrl.trim() ? { baseUrl: form.baseUrl.trim() } : {}),
        ...(form.models.trim() ? { models: form.models.split(',').map((m) => m.trim()).filter(Boolean) } : {}),
        enabled: true,
      }),
    onSuccess: (created) => {
      notifyDone(`Provider ${created.name} added`);
      // The key leaves the page's memory with the form: it is never shown or kept.
      setForm((f) => ({ ...f, apiKey: '' }));
      void qc.invalidateQueries({ queryKey: keys.providers() });
      onDone();
    },
    onError: (error) => notifyRefused('Adding the provider was refused', error),
  });
  const submit = (e: FormEvent) => {
    e.preventDefault();
    if (form.name.trim()) create.mutate();
  };
  return (
    <form className="card form" onSubmit={submit} aria-label="Add a provider">
      <div className="form__row">
        <label className="field field--grow">
          Name (what templates refer to)
          <input required value={form.name} onChange={(e) => setForm({ ...form, name: e.target.value })} pattern="[a-z0-9][a-z0-9_\-]*" title="lowercase letters, digits, _ and -" />
        </label>
        <SelectField label="Kind" value={form.kind} onValueChange={(v) => setForm({ ...form, kind: v as ProviderBody['kind'] })} options={KINDS.map((k) => ({ value: k, label: k }))} />
      </div>
      <label className="field">
        API key (sent once; only its last 4 characters are ever shown)
        <input type="password" autoComplete="off" value={form.apiKey} onChange={(e) => setForm({ ...form, apiKey: e.target.value })} disabled={form.kind === 'simulated'} />
      </label>
      <div className="form__row">
        <label className="field field--grow">
          Base URL (optional)
          <input type="url" value={form.baseUrl} onChange={(e) => setForm({ ...form, baseUrl: e.target.value })} />
        </label>
        <label className="field field--grow">
          Models (comma-separated, optional)
          <input value={form.models} onChange={(e) => setForm({ ...form, models: e.target.value })} />
        </label>
      </div>
      <div className="actions">
        <button type="submit" className="btn btn--primary" disabled={create.isPending}>
          Add
        </button>
        <button type="button" className="btn btn--ghost" onClick={onDone}>
          Cancel
        </button>
      </div>
      {create.error && <p className="form-error">{describeCommandError(create.error)}</p>}
    </form>
  );
}

/**
 * Sets or replaces the provider's key (write-only: only its last 4 characters come back). A key is
 * deleted when the provider's base URL or kind changes — it is never sent to another endpoint —
 * so a provider without one says it must be entered again.
 */
function KeyForm({ provider: p, onSaved }: { provider: ProviderView; onSaved: () => void }) {
  const [key, setKey] = useState('');
  const save = useMutation({
    mutationFn: () => api.updateProvider(p.id, { apiKey: key.trim() }),
    onSuccess: () => {
      notifyDone(`Key of ${p.name} saved`);
      setKey('');
      onSaved();
    },
    onError: (error) => notifyRefused(`Saving the key of ${p.name} was refused`, error),
  });
  return (
    <form
      className="form"
      onSubmit={(e) => {
        e.preventDefault();
        if (key.trim()) save.mutate();
      }}
    >
      {!p.hasApiKey && <p className="notice">No key is stored: enter it{p.baseUrl ? ` for ${p.baseUrl}` : ''} (a change of base URL or kind deletes the stored key).</p>}
      <div className="form__row" style={{ alignItems: 'flex-end' }}>
        <label className="field field--grow">
          {p.hasApiKey ? 'New API key' : 'API key'}
          <input type="password" autoComplete="off" value={key} onChange={(e) => setKey(e.target.value)} />
        </label>
        <button type="submit" className="btn btn--small" disabled={!key.trim() || save.isPending}>
          Save key
        </button>
      </div>
      {save.error && <p className="form-error">{describeCommandError(save.error)}</p>}
    </form>
  );
}
