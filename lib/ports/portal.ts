/** The web portal's deployment: the bucket CloudFront serves it from, and the files of its build. */

export interface PortalObject {
  key: string;
  body: Uint8Array | string;
  contentType: string;
  cacheControl: string;
}

export interface PortalBucket {
  put(object: PortalObject): Promise<void>;
  /** Every key in the bucket. */
  keys(): Promise<string[]>;
  delete(keys: readonly string[]): Promise<void>;
}

/** The built app as the deployment package carries it. */
export interface PortalBuild {
  /** Paths relative to the build folder, with `/` separators. */
  files(): Promise<string[]>;
  read(file: string): Promise<Uint8Array>;
}
