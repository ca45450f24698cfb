/** Entry point: fill in the URL's defaults (range, time zone) so it is shareable as is, then render. */
import { render } from "preact";
import { App } from "./app.tsx";
import { canonicalizeLocation } from "./state/router.ts";
import "./styles.css";

canonicalizeLocation();
const root = document.getElementById("app")!;
// index.html paints a static shell before this script runs; the app replaces it.
root.textContent = "";
render(<App />, root);
