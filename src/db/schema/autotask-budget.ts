// ---- 0038_autotask_budget_use: Settle's use of an Autotask database's hourly threshold, per process and minute ----
export interface AutotaskBudgetUseTable {
  budget_key: string;
  process_id: string;
  minute: Date;
  requests: number;
}
