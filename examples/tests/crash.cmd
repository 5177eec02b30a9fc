# Crash: alice, a bootstrap peer (the service keeps 2), is killed with SIGKILL and tells nobody.
# The survivors' failure detector (SWIM + Lifeguard) declares her failed, the bootstrap list is
# cleaned and refilled with a survivor, and the chat goes on.
@deadline 20s
alice init
bob init
charly init
@kill alice
bob testwait messagesView 1 "<left> alice has failed" 15s
charly testwait messagesView 1 "<left> alice has failed" 15s
charly testwait messagesView 1 "<info> bootstrap list refilled with charly" 10s
charly testfilter messagesView 1 "<bob> still alive"
bob msg still alive
