import { nearest } from './nearest.js';

/**
 * The regions this release knows: the fc3 component's region list, the CR endpoint table's other regions
 * (shared/reference cloud-facts §1.5 and §4.1), and the Middle East, Industry Cloud and newer regions of Alibaba
 * Cloud's endpoint tables (PrivateZone 2018-01-01 endpoints, Container Compute Service regions, 2026).
 */
export const KNOWN_REGIONS: readonly string[] = [
  'ap-northeast-1',
  'ap-northeast-2',
  'ap-south-1',
  'ap-southeast-1',
  'ap-southeast-2',
  'ap-southeast-3',
  'ap-southeast-5',
  'ap-southeast-6',
  'ap-southeast-7',
  'ap-southeast-8',
  'cn-beijing',
  'cn-beijing-finance-1',
  'cn-chengdu',
  'cn-fuzhou',
  'cn-guangzhou',
  'cn-hangzhou',
  'cn-hangzhou-finance',
  'cn-heyuan',
  'cn-hongkong',
  'cn-huhehaote',
  'cn-nanjing',
  'cn-north-2-gov-1',
  'cn-qingdao',
  'cn-shanghai',
  'cn-shanghai-finance-1',
  'cn-shenzhen',
  'cn-shenzhen-finance-1',
  'cn-wuhan-lr',
  'cn-wulanchabu',
  'cn-zhangjiakou',
  'eu-central-1',
  'eu-west-1',
  'me-central-1',
  'me-east-1',
  'us-east-1',
  'us-southeast-1',
  'us-west-1',
];

/**
 * A region id that is not in KNOWN_REGIONS: a problem when it is within two edits of a known one (a typo, which would
 * otherwise show up as ENOTFOUND on every run), else a note (a region this release does not list may still exist).
 */
export function checkRegion(name: string, region: string, out: { problems: string[]; notes: string[] }): void {
  if (KNOWN_REGIONS.includes(region)) return;
  const near = nearest(region, KNOWN_REGIONS, 2);
  if (near) out.problems.push(`${name}: "${region}" is not a region: did you mean ${near}?`);
  else out.notes.push(`${name}: "${region}" is not a region this release knows; check it if its endpoint fails`);
}
