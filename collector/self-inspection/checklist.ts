import type { EvidenceLink } from '../../shared/api/self-inspection.js';

/**
 * The checklist of the yearly 保密自查自评, in the words of 第58条 of the 保守国家秘密法实施条例
 * (2024): "机关、单位应当对遵守保密法律法规和相关制度情况开展自查自评", over the matters the
 * article lists (一)–(十三). The one home of these words: the API, the dashboard and the report
 * document read them from here. `suggestedLinks` are smew's own records that bear on an item.
 */
export interface ChecklistEntry {
  /** Stable key, stored with each answer. */
  item: string;
  /** As the article numbers it. */
  number: string;
  title: string;
  suggestedLinks: readonly EvidenceLink[];
}

export const SELF_INSPECTION_CHECKLIST: readonly ChecklistEntry[] = [
  { item: 'responsibility', number: '(一)', title: '保密工作责任制落实情况', suggestedLinks: [] },
  { item: 'rules', number: '(二)', title: '保密制度建设情况', suggestedLinks: [] },
  { item: 'training', number: '(三)', title: '保密宣传教育培训情况', suggestedLinks: [] },
  { item: 'personnel', number: '(四)', title: '涉密人员保密管理情况', suggestedLinks: [] },
  { item: 'classification', number: '(五)', title: '国家秘密确定、变更、解除情况', suggestedLinks: [] },
  { item: 'carriers', number: '(六)', title: '国家秘密载体管理情况', suggestedLinks: ['warnings'] },
  {
    item: 'systems',
    number: '(七)',
    title: '信息系统和信息设备保密管理情况',
    suggestedLinks: ['terminals', 'assessments', 'warnings'],
  },
  { item: 'internet', number: '(八)', title: '互联网使用保密管理情况', suggestedLinks: ['warnings'] },
  { item: 'premises', number: '(九)', title: '涉密场所及保密要害部门、部位管理情况', suggestedLinks: [] },
  {
    item: 'procurement',
    number: '(十)',
    title: '采购涉及国家秘密的工程、货物、服务，或者委托企业事业单位从事涉密业务管理情况',
    suggestedLinks: [],
  },
  { item: 'meetings', number: '(十一)', title: '涉及国家秘密会议、活动管理情况', suggestedLinks: [] },
  { item: 'disclosure', number: '(十二)', title: '信息公开保密审查情况', suggestedLinks: [] },
  {
    item: 'other',
    number: '(十三)',
    title: '其他遵守保密法律法规和相关制度的情况',
    suggestedLinks: ['incidents', 'rectifications'],
  },
];

export function checklistEntry(item: string): ChecklistEntry | undefined {
  return SELF_INSPECTION_CHECKLIST.find((entry) => entry.item === item);
}
