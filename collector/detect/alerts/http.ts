/** One JSON POST with a timeout, rejecting on a network error or a non-2xx status. */
export class HttpDeliveryError extends Error {
  readonly code = 'FLOWCAST_ALERT_HTTP';
  constructor(
    message: string,
    readonly status: number | undefined,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = 'HttpDeliveryError';
  }
}

export async function postJson(
  url: string,
  body: unknown,
  headers: Readonly<Record<string, string>>,
  timeoutMs: number,
  signal: AbortSignal,
): Promise<void> {
  let response: Response;
  try {
    response = await fetch(url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...headers },
      body: JSON.stringify(body),
      signal: AbortSignal.any([signal, AbortSignal.timeout(timeoutMs)]),
    });
  } catch (err) {
    throw new HttpDeliveryError(`POST ${url}: ${(err as Error).message}`, undefined, { cause: err });
  }
  const text = await response.text().catch(() => '');
  if (!response.ok) {
    throw new HttpDeliveryError(
      `POST ${url}: HTTP ${response.status} ${text.slice(0, 200)}`,
      response.status,
    );
  }
}
