"""OpenTrain's `/updates` ledger: proposal events become cards for a front end, exactly once; webhooks ring it.

Slack-free: the ledger hands each page of cards to a `ProposalSink` (the Slack outbox is one) and never decides
where a card is shown.
"""
