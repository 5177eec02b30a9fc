# The echo peer (echo-peer.mjs), not the chat peer: three peers join through the bootstrap
# service; every line one says reaches the others, and each of them echoes it back.
@deadline 15s
alice init
bob init
carol init
alice testwait messagesView 2 /^<joined>/ 10s
alice testfilter messagesView 1 "members: 3"
bob testfilter messagesView 1 "<alice> hello"
carol testfilter messagesView 1 "<alice> hello"
alice testfilter messagesView 1 "<bob> echo: hello"
alice testfilter messagesView 1 "<carol> echo: hello"
alice members
alice say hello
