export type Lang = 'en' | 'zh';

const en = {
  appName: 'Tillwatch',
  tagline: 'Real-time terminal risk monitor',
  loginTitle: 'Sign in with your API key',
  loginKey: 'API key',
  loginName: 'Your name (shown in the audit trail)',
  loginButton: 'Sign in',
  loginHelp:
    'Keys are issued by your Tillwatch administrator. The key stays in this browser until you sign out (in any tab).',
  loginFailed: 'The key was not accepted.',
  logout: 'Sign out',
  navBoard: 'Risk board',
  navRegions: 'Regions',
  navMerchant: 'My terminals',
  live: 'Live',
  reconnecting: 'Reconnecting…',
  offline: 'Offline',
  window: 'Window',
  fleetAuths: 'Authorisations',
  fleetFailure: 'Failure rate',
  fleetFault: 'Fault rate',
  firingAlerts: 'Firing, not closed',
  worstTerminals: 'Worst terminals now',
  worstMerchants: 'Worst merchants now',
  myTerminals: 'My terminals',
  myAlerts: 'My alerts',
  alertFeed: 'Alert feed',
  noAlerts: 'No alerts. All quiet.',
  noData: 'Waiting for data…',
  colTerminal: 'Terminal',
  colMerchant: 'Merchant',
  colRegion: 'Region',
  colAuths: 'Auths',
  colFault: 'Fault rate',
  colFaults: 'Faults',
  colFaultLow: 'At least',
  colFaultLowHint:
    'The fault rate this terminal has at least, 99.98 % sure (Wilson bound, as the rules judge): 5 of 5 failing ranks above 40 of 200, 2 of 5 below.',
  colFailure: 'Failure rate',
  colReversal: 'Reversals',
  colVolume: 'Volume vs normal',
  colTop: 'Main fault',
  ack: 'Acknowledge',
  details: 'Details',
  assign: 'Assign',
  addNote: 'Add note',
  searchPlaceholder: 'Find a terminal, merchant, region…',
  allSeverities: 'Every severity',
  allStates: 'Every state',
  stateNeeds: 'Needs someone',
  allRules: 'Every rule',
  staleReconnecting: 'Connection lost, reconnecting…',
  staleOffline: 'Disconnected: the server refused this key.',
  staleSince: 'The numbers below are as of',
  errField_assignee: 'Assign to',
  errField_note: 'Note',
  errField_verdict: 'Verdict',
  errField_author: 'Your name',
  errRequired: 'is required',
  errTooLong: 'is too long',
  errInvalid: 'is not valid',
  err401: 'Your key is no longer accepted: sign in again.',
  err403: 'Your role may not do this.',
  err404: 'Not found: it may have been removed.',
  err409: 'Someone changed this meanwhile: reload and try again.',
  err429: 'Too many requests: wait a moment and retry.',
  err5xx: 'The server could not do this now: try again shortly.',
  errNetwork: 'No connection to the server.',
  resolve: 'Resolve',
  changeVerdict: 'Change verdict',
  back: '← Back',
  notePlaceholder: 'What you saw, what you checked, what you did, the result…',
  assigneePlaceholder: 'Assign to…',
  probableCauses: 'Probable causes',
  actions: 'What to do',
  evidence: 'Evidence',
  drilldown: 'Transactions behind this alert',
  responseCodes: 'Response codes',
  auditTrail: 'Audit trail',
  measured: 'Measured',
  threshold: 'Threshold',
  baseline: 'Baseline',
  firstSeen: 'First seen',
  lastSeen: 'Last seen',
  status_firing: 'Firing',
  status_resolved: 'Resolved',
  wf_open: 'Open',
  wf_acknowledged: 'Acknowledged',
  wf_resolved: 'Closed',
  silenced: 'Silenced',
  outageBanner: 'Regional outage',
  regionsTitle: 'Regions',
  regionsHelp: 'Colour: fault rate and traffic against each region’s normal. Red = outage signs.',
  traffic: 'traffic',
  ofNormal: 'of normal',
  matched: 'matching events',
  colTime: 'Time',
  colType: 'Type',
  colTxn: 'Transaction',
  colAmount: 'Amount',
  colCode: 'Code',
  colFirmware: 'Software version',
  entityAlerts: 'Its alerts',
  entityEvents: 'Its transactions',
  openEntity: 'Open its page',
  colCard: 'Card',
  colIssuer: 'Issuer',
  loadOlder: 'Load 200 older',
  exportCsv: 'Export CSV',
  filterByCode: 'Show only this code (click again for all)',
  filteredOn: 'Only code',
  colCategory: 'Category',
  colCount: 'Count',
  trend: 'Trend',
  seriesFaultRate: 'Fault rate',
  windowWord: 'window',
  since: 'since',
  chartOwnNote: "The alert's metric, with its threshold and baseline.",
  chartNotOwnNote:
    "The fault rate of this key (all failures but the cardholder's): the alert's own metric is not kept as a series; its value, threshold and baseline are in the facts.",
  noSeriesForScope:
    'No stored series for this scope (issuers and software versions): see the evidence and the transactions.',
  engine: 'engine',
  msgsPerSec: 'updates/s',
  closeTitle: 'Close this alert: what was it?',
  closeHelp: 'Your verdict counts towards the rule’s precision. Closing again later replaces it.',
  verdict: 'Verdict',
  verdict_true_incident: 'True incident',
  verdict_false_alarm: 'False alarm',
  verdict_expected: 'Expected (planned or known)',
  verdictHelp_true_incident: 'Something was really wrong and needed people.',
  verdictHelp_false_alarm: 'Nothing was wrong: the rule should not have fired.',
  verdictHelp_expected: 'Real but planned or known: maintenance, a shop closing, a known outage.',
  verdictRequired: 'Choose a verdict to close the alert.',
  closeConfirm: 'Close with this verdict',
  cancel: 'Cancel',
  ruleQuality: 'Rule quality',
  qualityHelp:
    'Precision = true ÷ (true + false alarms); expected ones are counted apart. From analysts’ verdicts on closed alerts.',
  days: 'days',
  colRule: 'Rule',
  colRaised: 'Raised',
  colTrue: 'True',
  colFalse: 'False alarm',
  colExpected: 'Expected',
  colPrecision: 'Precision',
  colNoVerdict: 'No verdict',
  total: 'Total',
  noQuality: 'No alerts raised in this period.',
};
export type MessageKey = keyof typeof en;

const zh: Record<MessageKey, string> = {
  appName: 'Tillwatch',
  tagline: '终端交易风险实时监控',
  loginTitle: '使用 API 密钥登录',
  loginKey: 'API 密钥',
  loginName: '您的姓名（记入处理记录）',
  loginButton: '登录',
  loginHelp: '密钥由 Tillwatch 管理员发放，保存在本浏览器中，直到您（在任一标签页）退出登录。',
  loginFailed: '密钥无效。',
  logout: '退出',
  navBoard: '风险看板',
  navRegions: '地区',
  navMerchant: '我的终端',
  live: '实时',
  reconnecting: '正在重连…',
  offline: '离线',
  window: '时间窗',
  fleetAuths: '授权笔数',
  fleetFailure: '失败率',
  fleetFault: '故障率',
  firingAlerts: '进行中、未关闭的告警',
  worstTerminals: '当前最差终端',
  worstMerchants: '当前最差商户',
  myTerminals: '我的终端',
  myAlerts: '我的告警',
  alertFeed: '告警流',
  noAlerts: '暂无告警。',
  noData: '等待数据…',
  colTerminal: '终端',
  colMerchant: '商户',
  colRegion: '地区',
  colAuths: '授权',
  colFault: '故障率',
  colFaults: '故障数',
  colFaultLow: '至少',
  colFaultLowHint:
    '该终端故障率的下限（99.98% 置信，Wilson 区间，与规则判断相同）：5 笔中 5 笔失败排在 200 笔中 40 笔之前，5 笔中 2 笔排在其后。',
  colFailure: '失败率',
  colReversal: '冲正',
  colVolume: '交易量 / 常态',
  colTop: '主要故障',
  ack: '确认',
  details: '详情',
  assign: '指派',
  addNote: '添加备注',
  searchPlaceholder: '查找终端、商户、地区…',
  allSeverities: '全部级别',
  allStates: '全部状态',
  stateNeeds: '待处理',
  allRules: '全部规则',
  staleReconnecting: '连接已断开，正在重连…',
  staleOffline: '已断开：服务器拒绝了此密钥。',
  staleSince: '以下数据截至',
  errField_assignee: '指派给',
  errField_note: '备注',
  errField_verdict: '结论',
  errField_author: '您的姓名',
  errRequired: '不能为空',
  errTooLong: '太长',
  errInvalid: '无效',
  err401: '您的密钥已不被接受，请重新登录。',
  err403: '您的角色无权执行此操作。',
  err404: '未找到，可能已被删除。',
  err409: '他人已修改此项，请刷新后重试。',
  err429: '请求过多，请稍后重试。',
  err5xx: '服务器暂时无法完成，请稍后重试。',
  errNetwork: '无法连接服务器。',
  resolve: '关闭',
  changeVerdict: '修改结论',
  back: '← 返回',
  notePlaceholder: '记录现象、检查过程、处理方法和结果…',
  assigneePlaceholder: '指派给…',
  probableCauses: '可能原因',
  actions: '处理建议',
  evidence: '证据',
  drilldown: '告警背后的交易',
  responseCodes: '响应码',
  auditTrail: '处理记录',
  measured: '测量值',
  threshold: '阈值',
  baseline: '基线',
  firstSeen: '首次出现',
  lastSeen: '最近出现',
  status_firing: '告警中',
  status_resolved: '已恢复',
  wf_open: '待处理',
  wf_acknowledged: '已确认',
  wf_resolved: '已关闭',
  silenced: '已静默',
  outageBanner: '地区性故障',
  regionsTitle: '地区',
  regionsHelp: '颜色表示故障率及交易量相对常态的变化；红色表示疑似网络中断。',
  traffic: '交易量',
  ofNormal: '常态',
  matched: '条匹配事件',
  colTime: '时间',
  colType: '类型',
  colTxn: '交易号',
  colAmount: '金额',
  colCode: '响应码',
  colFirmware: '软件版本',
  entityAlerts: '相关告警',
  entityEvents: '相关交易',
  openEntity: '打开详情页',
  colCard: '卡',
  colIssuer: '发卡行',
  loadOlder: '再加载 200 条更早的',
  exportCsv: '导出 CSV',
  filterByCode: '只显示此响应码（再次点击显示全部）',
  filteredOn: '仅响应码',
  colCategory: '类别',
  colCount: '笔数',
  trend: '趋势',
  seriesFaultRate: '故障率',
  windowWord: '窗口',
  since: '起始',
  chartOwnNote: '告警自身的指标，含阈值与基线。',
  chartNotOwnNote:
    '该对象的故障率（持卡人原因以外的失败）：告警自身的指标未保存为序列；其数值、阈值与基线见上方。',
  noSeriesForScope: '此范围（发卡行、软件版本）无保存的序列：请查看证据与交易。',
  engine: '系统',
  msgsPerSec: '次更新/秒',
  closeTitle: '关闭告警：结论是什么？',
  closeHelp: '您的结论计入该规则的准确率；之后再次关闭会替换它。',
  verdict: '结论',
  verdict_true_incident: '真实事件',
  verdict_false_alarm: '误报',
  verdict_expected: '预期内（计划或已知）',
  verdictHelp_true_incident: '确实出了问题，需要人工处理。',
  verdictHelp_false_alarm: '没有问题：规则不应告警。',
  verdictHelp_expected: '真实但在计划或预料之中：维护、商户打烊、已知故障。',
  verdictRequired: '请选择结论后再关闭告警。',
  closeConfirm: '按此结论关闭',
  cancel: '取消',
  ruleQuality: '规则质量',
  qualityHelp: '准确率 = 真实 ÷（真实 + 误报）；预期内的单独计数。来自分析员关闭告警时给出的结论。',
  days: '天',
  colRule: '规则',
  colRaised: '告警数',
  colTrue: '真实',
  colFalse: '误报',
  colExpected: '预期内',
  colPrecision: '准确率',
  colNoVerdict: '无结论',
  total: '合计',
  noQuality: '此期间没有告警。',
};

const RULES: Record<string, { en: string; zh: string }> = {
  terminal_fault_spike: { en: 'Terminal fault spike', zh: '终端故障激增' },
  terminal_network_errors: { en: 'Terminal network errors', zh: '终端网络异常' },
  regional_outage: { en: 'Regional outage', zh: '地区性网络中断' },
  terminal_silent: { en: 'Terminal silent', zh: '终端无交易' },
  reversal_spike: { en: 'Reversal spike', zh: '冲正激增' },
  failed_but_charged: { en: 'Failed but charged', zh: '交易失败但已扣款' },
  no_settlement: { en: 'Approved but not settled', zh: '交易成功但未到账' },
  input_errors: { en: 'Operator input errors', zh: '操作输入错误' },
  card_testing: { en: 'Card testing suspected', zh: '疑似盗卡测试' },
  firmware_regression: { en: 'Firmware regression', zh: '固件版本故障' },
  issuer_degradation: { en: 'Issuer degradation', zh: '发卡行异常' },
  terminal_clock_drift: { en: 'Terminal clock drift', zh: '终端时钟偏差' },
};

const SEVERITIES: Record<string, { en: string; zh: string }> = {
  critical: { en: 'critical', zh: '严重' },
  warning: { en: 'warning', zh: '警告' },
  info: { en: 'info', zh: '提示' },
};

/** the metric ids the rules report (packages/rules/src/rules/*.ts, `metric:`) */
export const METRICS: Record<string, { en: string; zh: string }> = {
  auth_volume: { en: 'auth volume', zh: '授权量' },
  clock_offset_seconds: { en: 'clock offset (s)', zh: '时钟偏差（秒）' },
  events: { en: 'events', zh: '事件数' },
  input_error_rate: { en: 'input error rate', zh: '输入错误率' },
  issuer_error_rate: { en: 'issuer error rate', zh: '发卡行错误率' },
  link_terminals_affected: { en: 'terminals on the link affected', zh: '该线路受影响终端' },
  no_settlement_rate: { en: 'unsettled rate', zh: '未结算率' },
  none: { en: '–', zh: '–' },
  outage_error_rate: { en: 'outage error rate', zh: '中断类错误率' },
  regions_affected_share: { en: 'share of regions affected', zh: '受影响地区占比' },
  reversal_rate: { en: 'reversal rate', zh: '冲正率' },
  small_amount_decline_rate: { en: 'small-amount decline rate', zh: '小额拒付率' },
  software_fault_rate: { en: 'software fault rate', zh: '软件故障率' },
  terminal_fault_rate: { en: 'terminal fault rate', zh: '终端故障率' },
  timeout_rate: { en: 'timeout rate', zh: '超时率' },
  unreversed_timeouts_and_failed_reversals: {
    en: 'charged: unreversed timeouts and failed reversals',
    zh: '疑似扣款：未冲正超时与冲正失败',
  },
};

const EVENT_TYPES: Record<string, { en: string; zh: string }> = {
  auth: { en: 'auth', zh: '授权' },
  reversal: { en: 'reversal', zh: '冲正' },
  settlement: { en: 'settlement', zh: '结算' },
  heartbeat: { en: 'heartbeat', zh: '心跳' },
};

const CATEGORIES: Record<string, { en: string; zh: string }> = {
  approved: { en: 'approved', zh: '成功' },
  cardholder: { en: 'cardholder', zh: '持卡人' },
  issuer: { en: 'issuer', zh: '发卡行' },
  terminal: { en: 'terminal', zh: '终端' },
  security: { en: 'security', zh: '安全' },
  timeout: { en: 'timeout', zh: '超时' },
  other: { en: 'other', zh: '其他' },
};

const dicts: Record<Lang, Record<MessageKey, string>> = { en, zh };
let current: Lang = 'en';

export function setLang(l: Lang): void {
  current = l;
  // (no document in the unit tests)
  if (typeof document !== 'undefined') document.documentElement.lang = l === 'zh' ? 'zh-CN' : 'en';
}
export function lang(): Lang {
  return current;
}
export function t(k: MessageKey): string {
  return dicts[current][k];
}
export function ruleName(rule: string): string {
  return RULES[rule]?.[current] ?? rule;
}
export function categoryName(c: string): string {
  return CATEGORIES[c]?.[current] ?? c;
}
export function severityName(s: string): string {
  return SEVERITIES[s]?.[current] ?? s;
}
export function metricName(m: string): string {
  return METRICS[m]?.[current] ?? m;
}
export function eventTypeName(e: string): string {
  return EVENT_TYPES[e]?.[current] ?? e;
}

interface Guidance {
  probableCauses: string[];
  actions: string[];
}

/**
 * An alert's advice in the reader's language. The engine sends `probableCauses`/`actions` in
 * one language and may add `i18n: { zh: {...}, en: {...} }`; either part may be missing.
 */
export function guidance(
  alert: { probableCauses?: unknown; actions?: unknown; i18n?: unknown },
  l: Lang = current,
): Guidance {
  const strings = (v: unknown): string[] | undefined =>
    Array.isArray(v) && v.every((x) => typeof x === 'string') ? (v as string[]) : undefined;
  const i18n = (alert.i18n && typeof alert.i18n === 'object' ? alert.i18n : {}) as Record<
    string,
    unknown
  >;
  const mine = (i18n[l] && typeof i18n[l] === 'object' ? i18n[l] : {}) as Record<string, unknown>;
  return {
    probableCauses: strings(mine['probableCauses']) ?? strings(alert.probableCauses) ?? [],
    actions: strings(mine['actions']) ?? strings(alert.actions) ?? [],
  };
}
