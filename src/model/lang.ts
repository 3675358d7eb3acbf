/** The languages messages are written in. */
export type Lang = 'zh' | 'en';

/** The platforms a message can go to. */
export type ChannelName = 'dingtalk' | 'slack';
