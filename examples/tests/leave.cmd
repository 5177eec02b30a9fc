# Graceful leave: charly quits (bootstrap leave, tells every member, memberlist leave, exits).
# The others are told at once and see charly leave the membership as "left", not "failed";
# the chat goes on between the two who stay.
@deadline 15s
alice init
bob init
charly init
alice testfilter messagesView 1 "<left> charly is leaving"
bob testfilter messagesView 1 "<left> charly is leaving"
charly quit
alice testwait messagesView 1 "<left> charly has left" 10s
bob testwait messagesView 1 "<left> charly has left" 10s
bob testfilter messagesView 1 "<alice> still here"
alice msg still here
