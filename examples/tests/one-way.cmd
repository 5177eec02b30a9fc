# A one-way partition, which only the kernel can make (isopeer test as root: --net netns):
# alice can no longer reach bob, bob still reaches alice. Lifeguard's indirect probes through
# charly keep everyone alive, so nobody is declared failed. A chat line from alice to bob is
# lost; a line from bob to alice arrives; charly gets both. After @heal lines flow both ways.
@deadline 20s
alice init
bob init
charly init
alice testfilter messagesView 0 /^<left>/
bob testfilter messagesView 0 /^<left>/
charly testfilter messagesView 0 /^<left>/
@partition alice -> bob
bob testfilter messagesView 0 "<alice> one way"
charly testfilter messagesView 1 "<alice> one way"
alice testfilter messagesView 1 "<bob> the other way"
charly testfilter messagesView 1 "<bob> the other way"
alice msg one way
bob msg the other way
# hold the cut for many probe rounds (the Local preset probes every second)
charly sleep 8
@heal alice -> bob
bob testfilter messagesView 1 "<alice> healed"
alice msg healed
