// window.__TAURI__ as ui/ uses it (withGlobalTauri): only what api.js calls.
export {};

declare global {
  interface Window {
    __TAURI__: {
      core: {
        invoke<T = unknown>(command: string, args?: Record<string, unknown>): Promise<T>;
      };
      event: {
        listen<T = unknown>(event: string, handler: (event: { event: string; id: number; payload: T }) => void): Promise<() => void>;
      };
    };
  }
}
