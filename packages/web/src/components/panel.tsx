/** A titled dashboard panel. `busy` marks it aria-busy while fresh data loads (old data stays visible). */
import type { ComponentChildren } from "preact";
import { useId } from "preact/hooks";

export function Panel(props: { title: string; actions?: ComponentChildren; busy?: boolean; class?: string; children: ComponentChildren; testId?: string }) {
  const id = useId();
  return (
    <section class={`panel ${props.class ?? ""}`} aria-labelledby={id} aria-busy={props.busy ? "true" : "false"} data-testid={props.testId}>
      <header class="panel-head">
        <h2 id={id}>{props.title}</h2>
        {props.actions ? <div class="panel-actions">{props.actions}</div> : null}
      </header>
      {props.children}
    </section>
  );
}
