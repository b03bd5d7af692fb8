-- Issue #6 item 3: a card typed into the portal's hosted fields is a PaymentMethod attached to no
-- processor customer yet, and Stripe would charge it for any customer. The first client whose card review
-- (surcharge_quotes) names it owns it; a review by another client naming the same method is refused.
-- This index serves that lookup, made under an advisory lock per method (engine/pay-card-with-surcharge.ts).
CREATE INDEX surcharge_quotes_method ON surcharge_quotes (tenant_id, processor, processor_method_id);
