// Vite handles CSS imports (bundled into dist/assets/*.css) and import.meta.env.
/// <reference types="vite/client" />
