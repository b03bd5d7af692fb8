// The entities the simulator serves and their fields, as `entityInformation/fields` describes them. Names
// and types follow specs/autotask/autotask-rest-v1.swagger.json (InvoiceModel, BillingItemModel,
// CompanyModel, ContactModel, CompanyNoteModel, CompanyWebhookModel); which fields are read-only or required
// is not in the swagger (README.md lists the assumptions, each the strictest plausible).

export type DataType = 'integer' | 'long' | 'string' | 'datetime' | 'boolean' | 'double';

export interface FieldDef {
  readonly name: string;
  readonly dataType: DataType;
  readonly isReadOnly: boolean;
  readonly isRequired: boolean;
  readonly isQueryable: boolean;
  readonly referenceEntityType?: string;
  readonly picklist?: readonly { readonly value: string; readonly label: string; readonly isActive: boolean }[];
  readonly webhook?: boolean;
}

export interface EntityDef {
  readonly name: string; // as in the URL: Invoices, BillingItems, …
  readonly canCreate: boolean;
  readonly canUpdate: boolean;
  readonly canDelete: boolean;
  readonly supportsWebhookCallouts: boolean;
  readonly fields: readonly FieldDef[];
}

type Flag = 'ro' | 'req' | 'noq' | 'wh';
function f(name: string, dataType: DataType, flags: readonly Flag[] = [], extra: Partial<FieldDef> = {}): FieldDef {
  return {
    name,
    dataType,
    isReadOnly: flags.includes('ro'),
    isRequired: flags.includes('req'),
    isQueryable: !flags.includes('noq'),
    ...(flags.includes('wh') ? { webhook: true } : {}),
    ...extra,
  };
}

/** BillingItemType picklist (labels as the Autotask UI shows them; values to verify on a tenant). */
export const BILLING_ITEM_TYPES = [
  { value: '1', label: 'Labor', isActive: true },
  { value: '2', label: 'Expense', isActive: true },
  { value: '3', label: 'Charge', isActive: true },
  { value: '4', label: 'Milestone', isActive: true },
  { value: '5', label: 'Recurring Contract Service', isActive: true },
  { value: '6', label: 'Recurring Contract Adjustment', isActive: true },
  { value: '7', label: 'Subscription', isActive: true },
] as const;

/** ContractModel.ContractType picklist (Autotask's contract types; values to verify on a tenant). */
export const CONTRACT_TYPES = [
  { value: '1', label: 'Time & Materials', isActive: true },
  { value: '3', label: 'Fixed Price', isActive: true },
  { value: '4', label: 'Block Hours', isActive: true },
  { value: '6', label: 'Retainer', isActive: true },
  { value: '7', label: 'Recurring Service', isActive: true },
  { value: '8', label: 'Per Ticket', isActive: true },
] as const;

export const NOTE_ACTION_TYPES = [
  { value: '1', label: 'Phone Call', isActive: true },
  { value: '2', label: 'Meeting', isActive: true },
  { value: '3', label: 'General', isActive: true },
] as const;

const ID = f('Id', 'long', ['ro']);

export const ENTITIES: Readonly<Record<string, EntityDef>> = {
  Invoices: {
    name: 'Invoices',
    canCreate: false,
    canUpdate: true,
    canDelete: false,
    supportsWebhookCallouts: false,
    fields: [
      ID,
      f('BatchID', 'integer', ['ro']),
      f('Comments', 'string'),
      f('CompanyID', 'integer', ['ro'], { referenceEntityType: 'Company' }),
      f('CreateDateTime', 'datetime', ['ro']),
      f('CreatorResourceID', 'integer', ['ro']),
      f('DueDate', 'datetime', ['ro']),
      f('FromDate', 'datetime', ['ro']),
      f('InvoiceDateTime', 'datetime', ['ro']),
      f('InvoiceEditorTemplateID', 'integer'),
      f('InvoiceNumber', 'string', ['ro']),
      f('InvoiceTotal', 'double', ['ro']),
      f('IsVoided', 'boolean', ['ro']),
      f('OrderNumber', 'string', ['ro']),
      f('PaidDate', 'datetime'),
      f('PaymentTerm', 'integer', ['ro']),
      f('TaxGroup', 'integer', ['ro']),
      f('TaxRegionName', 'string', ['ro']),
      f('ToDate', 'datetime', ['ro']),
      f('TotalTaxValue', 'double', ['ro']),
      f('VoidedByResourceID', 'integer', ['ro']),
      f('VoidedDate', 'datetime', ['ro']),
      f('WebServiceDate', 'datetime'),
    ],
  },
  BillingItems: {
    name: 'BillingItems',
    canCreate: false,
    canUpdate: false,
    canDelete: false,
    supportsWebhookCallouts: false,
    fields: [
      ID,
      f('BillingItemType', 'integer', ['ro'], { picklist: BILLING_ITEM_TYPES }),
      f('CompanyID', 'integer', ['ro'], { referenceEntityType: 'Company' }),
      f('ContractID', 'integer', ['ro']),
      f('Description', 'string', ['ro']),
      f('ExtendedPrice', 'double', ['ro']),
      f('InvoiceID', 'integer', ['ro'], { referenceEntityType: 'Invoice' }),
      f('ItemDate', 'datetime', ['ro']),
      f('ItemName', 'string', ['ro']),
      f('PostedDate', 'datetime', ['ro']),
      f('ProjectID', 'integer', ['ro']),
      f('Quantity', 'double', ['ro']),
      f('Rate', 'double', ['ro']),
      f('TaxDollars', 'double', ['ro']),
      f('TicketID', 'integer', ['ro']),
      f('TotalAmount', 'double', ['ro']),
      f('WebServiceDate', 'datetime'),
    ],
  },
  // Contracts and projects named by billing items (ContractModel, ProjectModel), read-only here: Settle reads
  // their names and contract types; the MSP keeps them in Autotask.
  Contracts: {
    name: 'Contracts',
    canCreate: false,
    canUpdate: false,
    canDelete: false,
    supportsWebhookCallouts: false,
    fields: [
      ID,
      f('CompanyID', 'integer', ['ro'], { referenceEntityType: 'Company' }),
      f('ContractName', 'string', ['ro']),
      f('ContractNumber', 'string', ['ro']),
      f('ContractType', 'integer', ['ro'], { picklist: CONTRACT_TYPES }),
      f('StartDate', 'datetime', ['ro']),
      f('EndDate', 'datetime', ['ro']),
      f('Status', 'integer', ['ro']),
    ],
  },
  Projects: {
    name: 'Projects',
    canCreate: false,
    canUpdate: false,
    canDelete: false,
    supportsWebhookCallouts: false,
    fields: [
      ID,
      f('CompanyID', 'integer', ['ro'], { referenceEntityType: 'Company' }),
      f('ContractID', 'integer', ['ro']),
      f('ProjectName', 'string', ['ro']),
      f('ProjectNumber', 'string', ['ro']),
      f('Status', 'integer', ['ro']),
    ],
  },
  Companies: {
    name: 'Companies',
    canCreate: true,
    canUpdate: true,
    canDelete: false,
    supportsWebhookCallouts: true,
    fields: [
      ID,
      f('CompanyName', 'string', ['req', 'wh']),
      f('CompanyNumber', 'string', ['wh']),
      f('CompanyType', 'integer', ['req']),
      f('CreateDate', 'datetime', ['ro']),
      f('InvoiceMethod', 'integer'),
      f('IsActive', 'boolean', ['wh']),
      f('LastActivityDate', 'datetime', ['ro']),
      f('LastTrackedModifiedDateTime', 'datetime', ['ro']),
      f('OwnerResourceID', 'integer', ['req']),
      f('Phone', 'string', ['req', 'wh']),
    ],
  },
  Contacts: {
    name: 'Contacts',
    canCreate: true,
    canUpdate: true,
    canDelete: false,
    supportsWebhookCallouts: true,
    fields: [
      ID,
      f('CompanyID', 'integer', ['req'], { referenceEntityType: 'Company' }),
      f('CreateDate', 'datetime', ['ro']),
      f('EmailAddress', 'string'),
      f('FirstName', 'string', ['req']),
      f('IsActive', 'integer', ['req']),
      f('LastActivityDate', 'datetime', ['ro']),
      f('LastModifiedDate', 'datetime', ['ro']),
      f('LastName', 'string', ['req']),
      f('PrimaryContact', 'boolean'),
    ],
  },
  CompanyNotes: {
    name: 'CompanyNotes',
    canCreate: true,
    canUpdate: true,
    canDelete: false,
    supportsWebhookCallouts: false,
    fields: [
      ID,
      f('ActionType', 'integer', ['req'], { picklist: NOTE_ACTION_TYPES }),
      f('AssignedResourceID', 'integer'),
      f('CompanyID', 'integer', ['req'], { referenceEntityType: 'Company' }),
      f('CreateDateTime', 'datetime', ['ro']),
      f('LastModifiedDate', 'datetime', ['ro']),
      f('Name', 'string', ['req']),
      f('Note', 'string', ['req']),
    ],
  },
  CompanyWebhooks: {
    name: 'CompanyWebhooks',
    canCreate: true,
    canUpdate: true,
    canDelete: true,
    supportsWebhookCallouts: false,
    fields: [
      ID,
      f('DeactivationUrl', 'string', ['req']),
      f('IsActive', 'boolean', ['req']),
      f('IsReady', 'boolean', ['ro']),
      f('IsSubscribedToCreateEvents', 'boolean'),
      f('IsSubscribedToDeleteEvents', 'boolean'),
      f('IsSubscribedToUpdateEvents', 'boolean'),
      f('Name', 'string', ['req']),
      f('NotificationEmailAddress', 'string'),
      f('OwnerResourceID', 'integer'),
      f('SecretKey', 'string', ['req', 'noq']),
      f('SendThresholdExceededNotification', 'boolean'),
      f('WebhookGUID', 'string', ['ro']),
      f('WebhookUrl', 'string', ['req']),
    ],
  },
};

/** Autotask matches entity and field names without regard to case (SQL Server collation). */
export function entityNamed(name: string): EntityDef | null {
  const lower = name.toLowerCase();
  return Object.values(ENTITIES).find((e) => e.name.toLowerCase() === lower) ?? null;
}

export function fieldNamed(entity: EntityDef, name: string): FieldDef | null {
  const lower = name.toLowerCase();
  return entity.fields.find((x) => x.name.toLowerCase() === lower) ?? null;
}

/** Singular entity name as the vendor's error texts use it (Invoices → Invoice, Companies → Company). */
export function singular(entity: EntityDef): string {
  return entity.name.endsWith('ies') ? `${entity.name.slice(0, -3)}y` : entity.name.replace(/s$/, '');
}

/** The response spelling: Autotask's JSON lowers the first letter (Id → id, CompanyID → companyID). */
export const jsonName = (field: string): string => field.charAt(0).toLowerCase() + field.slice(1);
