export {
  startAllInOne,
  type AllInOne,
  type AllInOneOptions,
  type RulesAuditEntry,
} from './commands/start';
