// @alicloud/fc2 ships no type declarations; this covers the one call the CLI makes.
declare module '@alicloud/fc2' {
  interface FCClientConfig {
    accessKeyID: string;
    accessKeySecret: string;
    securityToken?: string;
    region: string;
    endpoint?: string;
    secure?: boolean;
    internal?: boolean;
    timeout?: number;
  }
  class FCClient {
    constructor(accountId: string, config: FCClientConfig);
    invokeFunction(
      service: string,
      fn: string,
      event: string | Buffer,
      headers?: Record<string, string>,
      qualifier?: string,
    ): Promise<{ headers: Record<string, string>; data: unknown }>;
  }
  export = FCClient;
}
