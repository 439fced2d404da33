// esbuild bundles .css imports of the notebook renderer as text (loader "text" in esbuild.js).
declare module '*.css' {
  const text: string;
  export default text;
}
