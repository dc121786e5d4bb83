namespace FunctionApp.Protocols.OpenIm;

/// <summary><c>callbackAfterAddFriendCommand</c>: fromUserID sent toUserID a friend request (they are not friends yet).</summary>
public sealed record OpenImAfterAddFriend(string FromUserId, string ToUserId, string? ReqMsg);

/// <summary>
/// <c>callbackAfterAddFriendAgreeCommand</c>: the request from <see cref="FromUserId"/> was answered by
/// <see cref="ResponderUserId"/> (sent as <c>blackUserID</c>, older servers <c>toUserID</c>).
/// </summary>
public sealed record OpenImAfterAddFriendAgree(string FromUserId, string ResponderUserId, long? HandleResult, string? HandleMsg);

/// <summary><c>callbackAfterImportFriendsCommand</c>: an admin made ownerUserID and each friendUserIDs entry friends.</summary>
public sealed record OpenImAfterImportFriends(string OwnerUserId, IReadOnlyList<string> FriendUserIds);

/// <summary><c>callbackAfterDeleteFriendCommand</c>, <c>callbackAfterSetFriendRemarkCommand</c> (with a remark).</summary>
public sealed record OpenImOwnerFriend(string OwnerUserId, string FriendUserId, string? Remark);

/// <summary><c>callbackBeforeAddBlackCommand</c>, <c>callbackAfterRemoveBlackCommand</c>.</summary>
public sealed record OpenImOwnerBlack(string OwnerUserId, string BlackUserId);
