-- ACH discount (payments-rules.md §1.5, issue #3 "Surcharging"): where a card surcharge is not allowed and
-- the MSP offers a discount for paying by bank instead, the discount the client was granted. The payment's
-- amount_minor is what the processor charged (open balances − discount); the invoices are still paid in
-- full, the discount being an expense of the MSP (ledger account ach_discounts).
ALTER TABLE payments ADD COLUMN discount_minor bigint NOT NULL DEFAULT 0 CHECK (discount_minor >= 0);
