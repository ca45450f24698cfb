/** A row of toggle buttons for one choice (range, bucket, metric…): a labelled group, the chosen one pressed. */
export type SegmentOption<T extends string> = { value: T; label: string; title?: string };

export function Segmented<T extends string>(props: { label: string; value: T | null; options: SegmentOption<T>[]; onChange: (v: T) => void; testId?: string }) {
  return (
    <div class="segmented" role="group" aria-label={props.label} data-testid={props.testId}>
      {props.options.map((o) => (
        <button key={o.value} type="button" aria-pressed={props.value === o.value ? "true" : "false"} title={o.title} data-value={o.value} onClick={() => props.onChange(o.value)}>
          {o.label}
        </button>
      ))}
    </div>
  );
}
