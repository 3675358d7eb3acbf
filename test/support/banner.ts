/** The total of failures a banner gives ("ACR: 3× network → cn-shanghai · 3,000 syncs failed"), or NaN. */
export const bannerTotal = (body: unknown): number =>
  Number((/ACR: [^"]*?([\d,]+) syncs? failed/.exec(JSON.stringify(body))?.[1] ?? 'NaN').replace(/,/g, ''));

/** Failures the messages announced, by their banners (a message without failures counts none). */
export const bannersTotal = (sent: readonly unknown[]): number =>
  sent.reduce<number>((n, m) => n + (Number.isNaN(bannerTotal(m)) ? 0 : bannerTotal(m)), 0);
