# A bootstrap peer cut off from every other peer, then healed (kernel faults: isopeer test as
# root, --net netns). alice and bob are the bootstrap peers (the service keeps 2). Cut off, alice
# is declared failed by the others and the bootstrap list is refilled with charly; alice still
# reaches the test server and the bootstrap service, only the peers are out of reach. After
# @heal the group takes her back (each side sees the other return) and chat flows again.
@deadline 30s
alice init
bob init
charly init
@isolate alice
bob testwait messagesView 1 "<left> alice has failed" 25s
charly testwait messagesView 1 "<left> alice has failed" 25s
charly testwait messagesView 1 "<info> bootstrap list refilled with charly" 10s
@heal
bob testwait messagesView 1 "<info> alice is back" 30s
charly testwait messagesView 1 "<info> alice is back" 30s
bob testfilter messagesView 1 "<alice> back again"
charly testfilter messagesView 1 "<alice> back again"
alice testfilter messagesView 1 "<bob> welcome back"
alice msg back again
bob msg welcome back
