/** Types of build-stamp.js (plain JavaScript: it runs before tsx is loaded). */
export declare const STAMP_FILE: string;
export declare const COMPILED_MAIN: string;
export declare function sourceHash(root: string): string;
export declare function compiledEntry(root: string): string | undefined;
