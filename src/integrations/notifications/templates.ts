import { notificationErrors } from './errors.js';

/**
 * Email templates with `{{variable}}` placeholders. Rendering happens when the notification is accepted, so
 * the queued message is self-contained and a missing variable is the caller's 400, not a dead letter later.
 * Values are HTML-escaped in `html` and inserted as-is in `text`; the subject may use placeholders too.
 */
export interface EmailTemplate {
  text: string;
  html: string;
}

export const EMAIL_TEMPLATES: Record<string, EmailTemplate> = {
  payment_receipt: {
    text: 'Thank you for your payment of {{amount}} {{currency}}.\nReceipt: {{paymentId}}\n',
    html: '<p>Thank you for your payment of <strong>{{amount}} {{currency}}</strong>.</p><p>Receipt: {{paymentId}}</p>',
  },
  refund_issued: {
    text: 'A refund of {{amount}} {{currency}} for payment {{paymentId}} is on its way.\n',
    html: '<p>A refund of <strong>{{amount}} {{currency}}</strong> for payment {{paymentId}} is on its way.</p>',
  },
  order_shipped: {
    text: 'Your order {{orderId}} has shipped. Tracking number: {{trackingNumber}}\n',
    html: '<p>Your order {{orderId}} has shipped.</p><p>Tracking number: {{trackingNumber}}</p>',
  },
  prescription_ready: {
    text: 'Hello {{firstName}}, your prescription is ready for pickup.\n',
    html: '<p>Hello {{firstName}}, your prescription is ready for pickup.</p>',
  },
};

const PLACEHOLDER = /\{\{\s*([A-Za-z0-9_]+)\s*\}\}/g;
type Vars = Record<string, string | number | boolean>;

function escapeHtml(s: string): string {
  return s.replace(
    /[&<>"']/g,
    (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!,
  );
}

/** Names used in `source` that `vars` lacks. */
export function missingVariables(source: string, vars: Vars): string[] {
  const missing = new Set<string>();
  for (const m of source.matchAll(PLACEHOLDER)) if (!(m[1]! in vars)) missing.add(m[1]!);
  return [...missing];
}

export function renderString(source: string, vars: Vars, html: boolean): string {
  return source.replace(PLACEHOLDER, (_all, name: string) => {
    const v = String(vars[name]);
    return html ? escapeHtml(v) : v;
  });
}

/** Renders subject/text/html; throws NOTIFICATIONS_TEMPLATE_* for an unknown template or missing variables. */
export function renderEmail(input: {
  subject: string;
  text?: string;
  html?: string;
  template?: string;
  variables?: Vars;
}): {
  subject: string;
  text?: string;
  html?: string;
} {
  const vars = input.variables ?? {};
  let text = input.text;
  let html = input.html;
  if (input.template !== undefined) {
    const t = EMAIL_TEMPLATES[input.template];
    if (!t) {
      throw notificationErrors.templateUnknown(`unknown template "${input.template}"`, {
        details: { field: 'template', known: Object.keys(EMAIL_TEMPLATES) },
      });
    }
    text ??= t.text;
    html ??= t.html;
  }
  const missing = [input.subject, text ?? '', html ?? ''].flatMap((s) => missingVariables(s, vars));
  if (missing.length > 0) {
    throw notificationErrors.templateVariableMissing(
      `missing template variables: ${[...new Set(missing)].join(', ')}`,
      {
        details: { field: 'variables', missing: [...new Set(missing)] },
      },
    );
  }
  return {
    subject: renderString(input.subject, vars, false),
    ...(text !== undefined ? { text: renderString(text, vars, false) } : {}),
    ...(html !== undefined ? { html: renderString(html, vars, true) } : {}),
  };
}
