// Rendering moved to libs/contracts (the gateway's estimate and the dashboard preview use it too).
export { renderText, renderPrompt, interviewPrompt, type BindingContext } from '@conclave/contracts';
