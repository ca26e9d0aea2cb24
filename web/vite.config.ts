import { defineConfig, type Plugin } from "vite";

// One self-contained index.html (script, styles and the hashing worker inlined), so the
// page is one file with one CID: `ipfs add --cid-version=1 index.html` names the genuine build.
function singleFile(): Plugin {
  return {
    name: "modelmint-single-file",
    enforce: "post",
    generateBundle(_options, bundle) {
      const html = Object.values(bundle).find((a) => a.fileName === "index.html");
      if (!html || html.type !== "asset") return;
      let text = String(html.source);
      for (const [name, item] of Object.entries(bundle)) {
        if (item.type === "chunk" && item.isEntry) {
          const tag = new RegExp(`<script type="module" crossorigin src="[^"]*${name.replace(/[.]/g, "\\.")}"></script>`);
          const code = item.code.replace(/<\/script/gi, "<\\/script");
          text = text.replace(tag, () => `<script type="module">${code}</script>`);
          delete bundle[name];
        } else if (item.type === "asset" && name.endsWith(".css")) {
          const tag = new RegExp(`<link rel="stylesheet" crossorigin href="[^"]*${name.replace(/[.]/g, "\\.")}">`);
          text = text.replace(tag, () => `<style>${String(item.source)}</style>`);
          delete bundle[name];
        }
      }
      html.source = text;
    },
  };
}

export default defineConfig({
  base: "./",
  plugins: [singleFile()],
  build: {
    outDir: "../python/modelmint/web/static",
    emptyOutDir: true,
    target: "es2022",
    modulePreload: false,
    assetsInlineLimit: 100_000_000,
    reportCompressedSize: true,
    // viem loads its CCIP-read helper lazily; one file needs it in the bundle.
    rollupOptions: { output: { inlineDynamicImports: true } },
  },
  worker: { format: "es" },
});
