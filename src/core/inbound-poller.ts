/**
 * Inbound by polling, for platforms where webhooks cannot reach the bridge (or as a safety
 * net behind them). The queue layer runs one repeatable job per platform; each tick asks the
 * poller to group the threads that have open handoffs into scopes (for example one per
 * repository), and polls each scope that is due — once across all bridge processes. The
 * poller keeps its own cursors (since, ETag…) and hands new replies to its InboundSink.
 */
export interface PollScope {
  /** Stable name of what one poll covers, e.g. `octo/repo`. */
  readonly scope: string;
  /** The canonical refs of the threads with open handoffs in that scope. */
  readonly threads: readonly string[];
}

export interface InboundPoller {
  /** How often the platform's poll job runs, ms. Scopes may ask to be polled less often. */
  readonly tickMs: number;
  /** Groups threads with open handoffs into poll scopes. */
  scopes(openThreads: readonly string[]): readonly PollScope[];
  /**
   * Fetches new replies in one scope and hands them to the sink. Returns how long to wait
   * before polling this scope again, ms (adapt it to the platform's remaining rate limit).
   * Throws RateLimitedError to be left alone for `retryAfterMs`.
   */
  poll(scope: PollScope): Promise<{ readonly nextPollMs: number }>;
}
