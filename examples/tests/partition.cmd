# A partition that heals: the link alice–bob is cut (memberlist UDP and TCP, and chat lines).
# charly still reaches both, so indirect probes keep everyone alive: nobody is declared failed.
# A line across the cut is lost; after healing, lines flow again.
@deadline 15s
alice init
bob init
charly init
alice testfilter messagesView 0 /^<left>/
bob testfilter messagesView 0 /^<left>/
@partition alice bob
bob testfilter messagesView 0 "<alice> across the cut"
charly testfilter messagesView 1 "<alice> across the cut"
alice msg across the cut
@heal alice bob
bob testfilter messagesView 1 "<alice> after healing"
alice msg after healing
