// One write to one entity — from `POST /{entity}[?operation=…][&include=void]` or a BatchItemRequest —
// dispatched to the rules of that entity. Operations as Intuit's OperationEnum names them (create, update,
// delete, void); a body with an Id sent as a create is an update, as QuickBooks treats it.
import { faults } from './faults.ts';
import { deleteRecord, updateRecord, voidRecord } from './lifecycle.ts';
import { createAccount, createCustomer, createItem } from './names.ts';
import { createPurchase, createVendor } from './purchase.ts';
import type { EntityName, QboStore } from './store.ts';
import { createInvoice, createPayment } from './transactions.ts';
import { createDeposit, updateDeposit } from './deposit.ts';
import { createJournalEntry, updatePayment } from './journal.ts';
import { createTrackingEntity, updateTrackingEntity } from './tracking.ts';
import { createCreditMemo } from './credit-memo.ts';

type Body = Record<string, unknown>;

export function writeEntity(store: QboStore, entity: EntityName, operation: string, body: unknown, include?: string): Record<string, unknown> {
  if (body === null || typeof body !== 'object' || Array.isArray(body)) throw faults.requiredParam(entity);
  const b = body as Body;
  if (include !== undefined && !(include === 'void' && operation === 'update' && entity === 'Payment')) {
    throw faults.unsupportedOperation(`${operation} with include=${include}`, entity);
  }
  switch (operation) {
    case 'void':
      return voidRecord(store, entity, b);
    case 'delete':
      return deleteRecord(store, entity, b);
    case 'update':
      if (include === 'void') return voidRecord(store, entity, b);
      return update(store, entity, b);
    case 'create':
      return b['Id'] === undefined ? create(store, entity, b) : update(store, entity, b);
    default:
      throw faults.unsupportedOperation(operation, entity);
  }
}

function update(store: QboStore, entity: EntityName, b: Body): Record<string, unknown> {
  if (b['Id'] === undefined) throw faults.requiredParam('Id');
  if (entity === 'Payment') return updatePayment(store, b);
  if (entity === 'Deposit') return updateDeposit(store, b);
  if (entity === 'Class' || entity === 'Department') return updateTrackingEntity(store, entity, b);
  return updateRecord(store, entity, b);
}

function create(store: QboStore, entity: EntityName, b: Body): Record<string, unknown> {
  switch (entity) {
    case 'Invoice':
      return createInvoice(store, b);
    case 'CreditMemo':
      return createCreditMemo(store, b);
    case 'Payment':
      return createPayment(store, b);
    case 'Deposit':
      return createDeposit(store, b);
    case 'Customer':
      return createCustomer(store, b);
    case 'Account':
      return createAccount(store, b);
    case 'Item':
      return createItem(store, b);
    case 'JournalEntry':
      return createJournalEntry(store, b);
    case 'Vendor':
      return createVendor(store, b);
    case 'Purchase':
      return createPurchase(store, b);
    case 'Class':
    case 'Department':
      return createTrackingEntity(store, entity, b);
    case 'CompanyInfo':
    case 'Preferences':
      throw faults.unsupportedOperation('create', entity);
    default: {
      const _: never = entity;
      throw faults.unsupportedOperation('create', String(_));
    }
  }
}
