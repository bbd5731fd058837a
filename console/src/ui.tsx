/** Small building blocks shared by the pages. */
import type { ComponentChildren } from 'preact';
import { ApiFailure } from './api.js';
import type { Loaded } from './state.js';

export function Card(props: {
  title: string;
  children: ComponentChildren;
  aside?: ComponentChildren;
  wide?: boolean;
}) {
  return (
    <section class={props.wide === true ? 'card wide' : 'card'}>
      <header>
        <h2>{props.title}</h2>
        {props.aside}
      </header>
      {props.children}
    </section>
  );
}

/** What to do when there is nothing to show yet. */
export function Empty(props: { children: ComponentChildren }) {
  return <div class="empty">{props.children}</div>;
}

export function Problem(props: { error: Error }) {
  const e = props.error;
  const detail = e instanceof ApiFailure ? `${e.status} ${e.code}: ${e.message}` : e.message;
  return (
    <div class="problem" role="alert">
      The API did not answer as expected ({detail}).
    </div>
  );
}

/**
 * Renders `children` with the answer once there is one; a problem or "loading" before that. A
 * failed refresh keeps the last answer on screen with the problem above it.
 */
export function Show<T>(props: { loaded: Loaded<T>; children: (data: T) => ComponentChildren }) {
  const { data, error } = props.loaded;
  return (
    <>
      {error !== undefined && <Problem error={error} />}
      {data !== undefined ? props.children(data) : error === undefined && <div class="loading">loading…</div>}
    </>
  );
}
